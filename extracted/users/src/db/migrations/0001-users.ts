import type { Migration } from '../../../../../lib/db/migrator';

/**
 * The users service's own table. Same shape as the monolith's `users` except `name` became `full_name`; the HTTP
 * field stays `name`. Ids stay 32-bit so they fit the contract's id rule (and rows copied from the monolith keep theirs).
 */
export const usersSchema: Migration = {
  name: '0001-users',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE users (
        id          serial PRIMARY KEY,
        email       varchar(320) NOT NULL,
        full_name   varchar(200) NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
    `);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE users');
  },
};
