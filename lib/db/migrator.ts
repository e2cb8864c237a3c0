import { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import type { Logger } from '../logger';

export interface Migration {
  name: string;
  up(ctx: { queryInterface: QueryInterface; sequelize: Sequelize }): Promise<void>;
  down?(ctx: { queryInterface: QueryInterface; sequelize: Sequelize }): Promise<void>;
}

/**
 * Applies versioned migrations in order, recorded in `schema_migrations`. An advisory lock serialises processes
 * starting together against the same database.
 */
export async function migrate(sequelize: Sequelize, migrations: Migration[], logger?: Logger): Promise<string[]> {
  const umzug = new Umzug({
    migrations: migrations.map((m) => ({
      name: m.name,
      up: () => m.up({ queryInterface: sequelize.getQueryInterface(), sequelize }),
      down: m.down ? () => m.down!({ queryInterface: sequelize.getQueryInterface(), sequelize }) : undefined,
    })),
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
    logger: undefined,
  });
  // The lock lives in its own transaction (one pooled connection) while the migrations run on others.
  const lockKey = 0x5354524e; // "STRN"
  return sequelize.transaction(async (lock) => {
    await sequelize.query('SELECT pg_advisory_xact_lock(:k)', { replacements: { k: lockKey }, transaction: lock });
    const applied = await umzug.up();
    if (applied.length) logger?.info({ migrations: applied.map((m) => m.name) }, 'schema migrated');
    return applied.map((m) => m.name);
  });
}
