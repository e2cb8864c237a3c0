import type { CdcWorkerStatus, PipelineStatus } from '../../../control/contracts';
import { startTsChild, type Child } from './children';

export const WORKER_TOKEN = 'fault-cdc-admin-token-0123456789';

export interface WorkerChild {
  id: string;
  url: string;
  child: Child;
}

export interface WorkerEnv {
  databaseUrl: string;
  brokers: string;
  planPath: string;
}

/** A real CDC worker (migrations/cdc/worker/main.ts) in its own process; resolves once its API listens. */
export async function startWorkerChild(id: string, port: number, env: WorkerEnv): Promise<WorkerChild> {
  const child = await startTsChild(
    'migrations/cdc/worker/main.ts',
    {
      PORT: String(port),
      CDC_DATABASE_URL: env.databaseUrl,
      KAFKA_BROKERS: env.brokers,
      STRANGLER_PLAN: env.planPath,
      STRANGLER_ADMIN_TOKEN: WORKER_TOKEN,
      CDC_WORKER_ID: id,
      CDC_LEASE_POLL_MS: '1000',
      LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
    },
    { ready: 'CDC worker listening', timeoutMs: 90_000 },
  );
  return { id, url: `http://127.0.0.1:${port}`, child };
}

/** The worker API with its token; throws on a non-2xx answer, with the body. */
export async function workerApi<T>(url: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
  const res = await fetch(new URL(path, url), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${WORKER_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface Cluster {
  items: (PipelineStatus & { sink?: { applied?: number } | null })[];
  worker: string;
  workers: CdcWorkerStatus[];
}

export const cluster = (url: string) => workerApi<Cluster>(url, '/pipelines');
