import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../lib/logger';
import { DEFAULT_PLAN_PATH, loadPlan, type Plan } from '../control/plan';
import { createTestDatabase, type TestDatabase } from '../test/harness/database';
import { TEST_INTERNAL_SECRET } from '../test/harness/internal';
import { loadFacadeConfig } from './src/config';
import { startFacade, type Facade } from './src/server';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestFacade {
  facade: Facade;
  url: string;
  db: TestDatabase;
  backupDir: string;
  /** Stops the facade; keeps its database and backup dir so a restart can be tested. */
  stop(): Promise<void>;
  /** Stops the facade and drops its database. */
  destroy(): Promise<void>;
}

/** The demo plan with every URL pointed at test processes (an unset service gets a closed port). */
export function testPlan(urls: { monolith: string } & Partial<Record<'users' | 'orders' | 'payments' | 'notifications', string>>): Plan {
  const closed = 'http://127.0.0.1:9';
  return loadPlan(DEFAULT_PLAN_PATH, {
    MONOLITH_URL: urls.monolith,
    USERS_URL: urls.users ?? closed,
    ORDERS_URL: urls.orders ?? closed,
    PAYMENTS_URL: urls.payments ?? closed,
    NOTIFICATIONS_URL: urls.notifications ?? closed,
  });
}

/** A real facade on a free port with its own database; flags from a real Unleash when one is given. */
export async function startTestFacade(options: {
  plan: Plan;
  unleash?: { url: string; clientToken: string };
  env?: Record<string, string>;
  db?: TestDatabase;
  backupDir?: string;
}): Promise<TestFacade> {
  const db = options.db ?? (await createTestDatabase('facade'));
  const backupDir = options.backupDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-facade-'));
  const config = loadFacadeConfig({
    PORT: '0',
    FACADE_DATABASE_URL: db.url,
    STRANGLER_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    UNLEASH_URL: options.unleash?.url ?? '',
    UNLEASH_CLIENT_TOKEN: options.unleash?.clientToken ?? '',
    UNLEASH_REFRESH_MS: '200',
    UNLEASH_BACKUP_DIR: backupDir,
    BREAKER_RESET_MS: '1000',
    SHADOW_READ_DELAY_MS: '50',
    UPSTREAM_TIMEOUT_MS: '3000',
    STRANGLER_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    ...options.env,
  });
  const facade = await startFacade(config, createLogger('facade', 'silent'), options.plan);
  return {
    facade,
    url: facade.server.url,
    db,
    backupDir,
    stop: () => facade.stop(),
    async destroy() {
      await facade.stop();
      await db.drop();
      fs.rmSync(backupDir, { recursive: true, force: true });
    },
  };
}
