import type { Migration } from '../../../../../lib/db/migrator';

/**
 * The notifications service's own table: the monolith's `notifications` columns plus `event_id`, the order event a
 * row was made from. Its unique index makes consuming idempotent: a redelivered event inserts nothing. Rows copied
 * from the monolith have no event id (NULLs never conflict). `user_id` has no foreign key: users live elsewhere.
 */
export const notificationsSchema: Migration = {
  name: '0001-notifications',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE notifications (
        id          serial PRIMARY KEY,
        user_id     integer NOT NULL,
        kind        varchar(64) NOT NULL,
        payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
        status      varchar(16) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        sent_at     timestamptz,
        event_id    uuid UNIQUE
      );
      CREATE INDEX notifications_user_id_idx ON notifications (user_id, id);
      CREATE INDEX notifications_queued_idx ON notifications (id) WHERE status = 'queued';
    `);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE notifications');
  },
};
