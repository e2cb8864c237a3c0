import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { listen, type RunningServer } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { TEST_INTERNAL_SECRET } from '../../test/harness/internal';
import { createUsersService, type UsersServiceApp } from './src/app';
import { migrations } from './src/db/migrations';
import type { OrdersClientOptions } from './src/users/orders.client';
import type { Workshop } from '../../lib/http/workshop';

export interface TestUsersService {
  service: UsersServiceApp;
  server: RunningServer;
  db: TestDatabase;
  sequelize: ReturnType<typeof createSequelize>;
  stop(): Promise<void>;
}

/** A real users service on a free port over a fresh database, as main.ts would run it. */
export async function startTestUsersService(options: { orders?: Partial<OrdersClientOptions>; workshop?: Workshop } = {}): Promise<TestUsersService> {
  const db = await createTestDatabase('users');
  const logger = createLogger('users', 'silent');
  const sequelize = createSequelize(db.url, logger);
  await migrate(sequelize, migrations, logger);
  const service = createUsersService({ sequelize, logger, orders: options.orders, internalSecret: TEST_INTERNAL_SECRET, workshop: options.workshop });
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
