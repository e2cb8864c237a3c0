import type { Migration } from '../../../../../lib/db/migrator';

/**
 * Ids for dry-run orders, from the top of the key space down. A dry run's order must not carry an id a real order
 * has: payments would find that order's payment and refuse the capture. Real ids come from `orders_id_seq` — the
 * monolith's range copied over, and after extraction the service's own range counting up — so before extraction
 * they collide with the monolith's; these do not, whether or not the context was extracted. The sequence is not
 * owned by the column, so the id-range tools leave it alone, and a dry run commits no row that could hold one.
 */
export const dryRunIds: Migration = {
  name: '0002-dry-run-ids',
  async up({ sequelize }) {
    await sequelize.query('CREATE SEQUENCE orders_dry_run_id_seq AS integer INCREMENT BY -1 MINVALUE 1 MAXVALUE 2147483647 START WITH 2147483647 CYCLE');
  },
  async down({ sequelize }) {
    await sequelize.query('DROP SEQUENCE orders_dry_run_id_seq');
  },
};
