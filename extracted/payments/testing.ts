import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { listen, type RunningServer } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { TEST_INTERNAL_SECRET } from '../../test/harness/internal';
import { createPaymentsService, type PaymentsServiceApp } from './src/app';
import { migrations } from './src/db/migrations';

export interface TestPaymentsService {
  service: PaymentsServiceApp;
  server: RunningServer;
  db: TestDatabase;
  sequelize: ReturnType<typeof createSequelize>;
  stop(): Promise<void>;
}

/** A real payments service on a free port over a fresh database, as main.ts would run it. */
export async function startTestPaymentsService(): Promise<TestPaymentsService> {
  const db = await createTestDatabase('payments');
  const logger = createLogger('payments', 'silent');
  const sequelize = createSequelize(db.url, logger);
  await migrate(sequelize, migrations, logger);
  const service = createPaymentsService({ sequelize, logger, internalSecret: TEST_INTERNAL_SECRET });
  const server = await listen(service.app, 0);
  return {
    service,
    server,
    db,
    sequelize,
    async stop() {
      await server.close();
      await sequelize.close();
      await db.drop();
    },
  };
}
