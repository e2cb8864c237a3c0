import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type PostgresServer } from '../../lib/db/embedded-postgres';
import { freePort } from '../../lib/net/ports';

declare global {
  var __STRANGLER_TEST_PG__: PostgresServer | undefined;
}

/**
 * One real Postgres per test run. `STRANGLER_PG_URL` (a superuser URL of a server with wal_level=logical) points
 * the suite at an external server instead; each test file still gets its own fresh database.
 */
export default async function globalSetup(): Promise<void> {
  process.env.LOG_LEVEL ??= 'silent';
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  if (process.env.STRANGLER_PG_URL) {
    process.env.STRANGLER_TEST_PG_URL = process.env.STRANGLER_PG_URL;
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-test-'));
  fs.chmodSync(root, 0o755);
  const server = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pg'),
    port: await freePort(),
    persistent: false,
    unsafeFast: true,
  });
  globalThis.__STRANGLER_TEST_PG__ = server;
  process.env.STRANGLER_TEST_PG_URL = server.url;
}
