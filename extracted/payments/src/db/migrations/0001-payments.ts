import type { Migration } from '../../../../../lib/db/migrator';

/**
 * The payments service's own tables. `payments` matches the monolith's table minus the foreign key to orders
 * (orders live in another database now); `order_id` stays unique, so an order is charged at most once whatever
 * the keys say. `idempotency_keys` remembers which request each key belongs to and the payment it produced; it
 * is written in the same transaction as the payment, so a key never exists without its payment or vice versa.
 */
export const paymentsSchema: Migration = {
  name: '0001-payments',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE payments (
        id            serial PRIMARY KEY,
        order_id      integer NOT NULL UNIQUE,
        amount_cents  bigint NOT NULL CHECK (amount_cents >= 0),
        status        varchar(32) NOT NULL CHECK (status IN ('captured', 'declined', 'refunded')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE idempotency_keys (
        key           varchar(255) PRIMARY KEY,
        request_hash  char(64) NOT NULL,
        payment_id    integer NOT NULL REFERENCES payments(id),
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX idempotency_keys_payment_id_idx ON idempotency_keys (payment_id);
    `);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE idempotency_keys, payments');
  },
};
