import type { Migration } from '../../../../lib/db/migrator';

/**
 * The monolith's one database. Plain SQL so the schema the CDC pipelines read is exactly what is written here.
 * Money is integer cents in bigint; emails are unique case-insensitively through an expression index.
 */
export const initialSchema: Migration = {
  name: '0001-initial-schema',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE users (
        id          serial PRIMARY KEY,
        email       varchar(320) NOT NULL,
        name        varchar(200) NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

      CREATE TABLE orders (
        id           serial PRIMARY KEY,
        user_id      integer NOT NULL REFERENCES users(id),
        status       varchar(32) NOT NULL CHECK (status IN ('pending', 'paid', 'payment_declined', 'cancelled')),
        total_cents  bigint NOT NULL CHECK (total_cents >= 0),
        currency     char(3) NOT NULL DEFAULT 'USD',
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX orders_user_id_idx ON orders (user_id, created_at DESC, id DESC);

      CREATE TABLE order_items (
        id                serial PRIMARY KEY,
        order_id          integer NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        position          integer NOT NULL,
        sku               varchar(100) NOT NULL,
        quantity          integer NOT NULL CHECK (quantity >= 1),
        unit_price_cents  bigint NOT NULL CHECK (unit_price_cents >= 0),
        UNIQUE (order_id, position)
      );

      CREATE TABLE payments (
        id            serial PRIMARY KEY,
        order_id      integer NOT NULL UNIQUE REFERENCES orders(id),
        amount_cents  bigint NOT NULL CHECK (amount_cents >= 0),
        status        varchar(32) NOT NULL CHECK (status IN ('captured', 'declined', 'refunded')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE notifications (
        id          serial PRIMARY KEY,
        user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind        varchar(64) NOT NULL,
        payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
        status      varchar(16) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        sent_at     timestamptz
      );
      CREATE INDEX notifications_user_id_idx ON notifications (user_id, id);
      CREATE INDEX notifications_queued_idx ON notifications (id) WHERE status = 'queued';
    `);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE notifications, payments, order_items, orders, users');
  },
};
