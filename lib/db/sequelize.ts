import { Sequelize } from 'sequelize';
import type { Logger } from '../logger';

export function createSequelize(url: string, logger?: Logger, poolMax = 10): Sequelize {
  return new Sequelize(url, {
    dialect: 'postgres',
    logging: logger && logger.isLevelEnabled('trace') ? (sql) => logger.trace({ sql }, 'sql') : false,
    pool: { max: poolMax, min: 0, idle: 10_000, acquire: 30_000 },
    define: { underscored: true },
  });
}
