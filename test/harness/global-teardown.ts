import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const pg = globalThis.__STRANGLER_TEST_PG__;
  const kafka = globalThis.__STRANGLER_TEST_KAFKA__;
  const root = globalThis.__STRANGLER_TEST_ROOT__;
  globalThis.__STRANGLER_TEST_PG__ = undefined;
  globalThis.__STRANGLER_TEST_KAFKA__ = undefined;
  globalThis.__STRANGLER_TEST_ROOT__ = undefined;
  const results = await Promise.allSettled([pg?.stop(), kafka?.stop()]);
  // As root, Postgres's data may have been moved out of the run's folder (see resolveDataDir): remove it by name.
  if (pg && (!root || path.relative(root, pg.dataDir).startsWith('..'))) {
    fs.rmSync(pg.dataDir, { recursive: true, force: true });
  }
  if (root) fs.rmSync(root, { recursive: true, force: true });
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
