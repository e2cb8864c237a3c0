import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNodeProcess, whenListening, type BenchProcess } from '../tools/processes';
import { PROJECT_ROOT } from '../../lib/project';
import { CONTEXT_STAGES, type FacadeStack } from './stack';

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';
const ENTRY = path.join(PROJECT_ROOT, 'dist', 'facade', 'src', 'main.js');

export interface FacadeProcess extends BenchProcess {
  url: string;
}

/**
 * The facade exactly as it is deployed (`node dist/facade/src/main.js`, compiled by `npm run build`), with the shop
 * plan's monolith and every service pointed at the tiny upstream. Warn-level logs: a line per request would dominate. No OTLP
 * endpoint (spans are off unless one is configured) and no Unleash admin token, so an automatic rollback cannot
 * change a stage in the middle of a measurement; its per-request bookkeeping still runs.
 */
export async function startFacadeProcess(options: {
  stack: FacadeStack;
  upstream: string;
  port: number;
  nodeFlags?: string[];
  name?: string;
  /** Another checkout's compiled tree (BENCH_BASELINE_FACADE) instead of this one's: an A/B in one run. */
  root?: string;
  env?: Record<string, string>;
}): Promise<FacadeProcess> {
  const entry = options.root ? path.join(options.root, 'dist', 'facade', 'src', 'main.js') : ENTRY;
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` there`);
  const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-facade-'));
  const proc = startNodeProcess(
    options.name ?? 'facade',
    entry,
    {
      PORT: String(options.port),
      FACADE_DATABASE_URL: options.stack.facadeDatabaseUrl,
      STRANGLER_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      STRANGLER_PLAN: '',
      UNLEASH_URL: options.stack.unleash.url,
      UNLEASH_CLIENT_TOKEN: options.stack.unleash.clientToken,
      UNLEASH_ADMIN_TOKEN: '',
      UNLEASH_BACKUP_DIR: backupDir,
      STRANGLER_CDC_URL: '',
      JWT_SECRET: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      LOG_LEVEL: process.env.BENCH_FACADE_LOG_LEVEL ?? 'warn',
      STRANGLER_PARENT_PID: String(process.pid),
      MONOLITH_URL: options.upstream,
      USERS_URL: options.upstream,
      ORDERS_URL: options.upstream,
      PAYMENTS_URL: options.upstream,
      NOTIFICATIONS_URL: options.upstream,
      ...options.env,
    },
    options.nodeFlags,
  );
  const url = `http://127.0.0.1:${options.port}`;
  const stop = proc.stop;
  const facade: FacadeProcess = {
    ...proc,
    url,
    stop: async () => {
      await stop();
      fs.rmSync(backupDir, { recursive: true, force: true });
    },
  };
  try {
    await whenListening(proc, options.port, 60_000);
    await waitForStages(url, 60_000);
  } catch (err) {
    await facade.stop();
    throw err;
  }
  return facade;
}

interface StatusBody {
  contexts: { name: string; stage: string; percent: number }[];
  unleash: { state: string };
}

/** Until the facade has synchronised with Unleash and routes every context as the rows expect. */
async function waitForStages(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/_strangler/status`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as StatusBody;
      const ok =
        body.unleash.state === 'synchronized' &&
        CONTEXT_STAGES.every(({ context, stage, percent }) => {
          const c = body.contexts.find((x) => x.name === context);
          return c?.stage === stage && (percent === undefined || c.percent === percent);
        });
      if (ok) return;
      last = JSON.stringify({ unleash: body.unleash.state, contexts: body.contexts.map((c) => `${c.name}:${c.stage}:${c.percent}`) });
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the facade did not reach the bench's stages within ${timeoutMs} ms (last status: ${last})`);
}
