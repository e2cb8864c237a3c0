import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropDatabase, ensureDatabase } from '../../lib/db/admin';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres';
import { freePort } from '../../lib/net/ports';
import type { Stage } from '../../control/plan';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { defaultUnleashTokens, startUnleash, type UnleashProcess } from '../../scripts/stack/unleash';

/**
 * What the facade rows stand on: a Postgres of the bench's own (embedded, thrown away afterwards) holding
 * Unleash's database and the facade's, and a real Unleash whose flags put each context of the shop plan in the
 * stage its row measures. `BENCH_PG_URL` points at an existing server instead.
 */
export interface FacadeStack {
  facadeDatabaseUrl: string;
  unleash: UnleashProcess;
  stop(): Promise<void>;
}

/** The shop plan's contexts, each in the stage a row needs (notifications simply stays on the monolith). */
export const CONTEXT_STAGES: { context: string; stage: Stage; percent?: number }[] = [
  { context: 'payments', stage: 'monolith' },
  { context: 'orders', stage: 'canary', percent: 50 },
  { context: 'users', stage: 'shadow' },
  { context: 'notifications', stage: 'monolith' },
];

export async function startFacadeStack(log: (line: string) => void): Promise<FacadeStack> {
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
  };
  try {
    let serverUrl = process.env.BENCH_PG_URL;
    if (!serverUrl) {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-'));
      fs.chmodSync(root, 0o755);
      const pg = await startEmbeddedPostgres({ dataDir: path.join(root, 'pg'), port: await freePort(), persistent: false, unsafeFast: true });
      closers.push(async () => {
        await pg.stop();
        fs.rmSync(root, { recursive: true, force: true });
      });
      serverUrl = pg.url;
    }
    const suffix = `${process.pid}_${Date.now().toString(36)}`;
    const unleashDb = await ensureDatabase(serverUrl, `bench_unleash_${suffix}`);
    const facadeDatabaseUrl = await ensureDatabase(serverUrl, `bench_facade_${suffix}`);
    if (process.env.BENCH_PG_URL) {
      const server = serverUrl;
      closers.push(() => dropDatabase(server, `bench_unleash_${suffix}`));
      closers.push(() => dropDatabase(server, `bench_facade_${suffix}`));
    }
    log('starting Unleash (its migrations take a while on a fresh database)…');
    const unleash = await startUnleash({ databaseUrl: unleashDb, port: await freePort(), ...defaultUnleashTokens() });
    closers.push(() => unleash.stop());
    const admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    for (const { context, stage, percent } of CONTEXT_STAGES) await applyStage(admin, context, stage, percent);
    return { facadeDatabaseUrl, unleash, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
