import { createSequelize } from '../lib/db/sequelize';
import { migrate } from '../lib/db/migrator';
import { listen, type RunningServer } from '../lib/http/server';
import { createLogger } from '../lib/logger';
import { createTestDatabase, type TestDatabase } from '../test/harness/database';
import { createMonolith, type Monolith } from './src/app';
import { migrations } from './src/db/migrations';
import { startDispatcher } from './src/notifications/dispatcher';
import type { OrderFaults } from './src/orders/orders.service';

export interface TestMonolith {
  monolith: Monolith;
  server: RunningServer;
  db: TestDatabase;
  sequelize: ReturnType<typeof createSequelize>;
  stop(): Promise<void>;
}

/** A real monolith on a free port over a fresh database, as main.ts would run it (minus the demo seed). */
export async function startTestMonolith(options: { faults?: OrderFaults; dispatchIntervalMs?: number } = {}): Promise<TestMonolith> {
  const db = await createTestDatabase('monolith');
  const logger = createLogger('monolith', 'silent');
  const sequelize = createSequelize(db.url, logger);
  await migrate(sequelize, migrations, logger);
  const monolith = createMonolith({ sequelize, logger, faults: options.faults });
  const server = await listen(monolith.app, 0);
  const dispatcher = startDispatcher(monolith.services.notifications, logger, options.dispatchIntervalMs ?? 100);
  return {
    monolith,
    server,
    db,
    sequelize,
    async stop() {
      await server.close();
      await dispatcher.stop();
      await sequelize.close();
      await db.drop();
    },
  };
}
