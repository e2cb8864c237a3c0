import type { Migration } from '../../../../../lib/db/migrator';

/**
 * The orders service's own tables. `orders` keeps the monolith's columns and adds the order's items as a jsonb
 * array (`[{sku, quantity, unitPriceCents}]`, in the order they were placed) instead of an `order_items` table.
 * `user_id` has no foreign key: users live in another database. `outbox` holds domain events written in the same
 * transaction as the order change, until the relay has published them to Kafka.
 */
export const ordersSchema: Migration = {
  name: '0001-orders',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE orders (
        id           serial PRIMARY KEY,
        user_id      integer NOT NULL,
        status       varchar(32) NOT NULL CHECK (status IN ('pending', 'paid', 'payment_declined', 'cancelled')),
        total_cents  bigint NOT NULL CHECK (total_cents >= 0),
        currency     char(3) NOT NULL DEFAULT 'USD',
        items        jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array'),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX orders_user_id_idx ON orders (user_id, created_at DESC, id DESC);

      CREATE TABLE outbox (
        id            bigserial PRIMARY KEY,
        event_id      uuid NOT NULL UNIQUE,
        topic         varchar(249) NOT NULL,
        key           varchar(255),
        payload       jsonb NOT NULL,
        headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at    timestamptz NOT NULL DEFAULT now(),
        published_at  timestamptz
      );
      CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
    `);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE outbox, orders');
  },
};
