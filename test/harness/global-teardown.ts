import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__STRANGLER_TEST_PG__;
  if (!server) return;
  await server.stop();
  fs.rmSync(path.dirname(server.dataDir), { recursive: true, force: true });
}
