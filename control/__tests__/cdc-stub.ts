import type { IncomingMessage } from 'node:http';
import type { CdcWorkerStatus, Direction, PipelineStatus, SyncResult } from '../contracts';
import { listen, type RunningServer } from '../../lib/http/server';

export interface StubCall {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for the CDC worker's REST API (the real one needs Kafka and two databases per context): it records
 * every call, so a test can see which side effects a move caused, and lets the test decide how a sync answers.
 */
export interface CdcStub {
  url: string;
  calls: StubCall[];
  pipelines: PipelineStatus[];
  /** What `GET /pipelines` says about the live workers (none by default). */
  workers: CdcWorkerStatus[];
  /** How `POST /contexts/:context/sync` answers; caught up at once by default. */
  onSync: (context: string, direction: Direction, timeoutMs: number) => Promise<SyncResult>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const streaming = (context: string, direction: Direction): PipelineStatus => ({ name: `${context}-${direction}`, context, direction, state: 'streaming', lagMs: 0, lagBytes: 0 });

export async function startCdcStub(): Promise<CdcStub> {
  const stub: CdcStub = {
    url: '',
    calls: [],
    pipelines: [],
    workers: [],
    onSync: async () => ({ caughtUp: true, waitedMs: 1, lsn: '0/1' }),
    close: () => server.close(100),
  };
  const start = (context: string, direction: Direction) => {
    if (!stub.pipelines.some((p) => p.name === `${context}-${direction}`)) stub.pipelines.push(streaming(context, direction));
  };
  const server: RunningServer = await listen(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (req.method === 'POST') stub.calls.push({ path, body });
    const m = /^\/contexts\/([^/]+)\/(extract|reverse|sync|reconcile)$/.exec(path);
    let answer: unknown = { items: stub.pipelines, worker: stub.workers[0]?.id ?? 'stub', workers: stub.workers };
    if (m && m[2] === 'extract') start(m[1], 'forward');
    if (m && m[2] === 'reverse') start(m[1], 'reverse');
    if (m && m[2] === 'sync') answer = await stub.onSync(m[1], body.direction as Direction, Number(body.timeoutMs));
    if (m && m[2] === 'reconcile') answer = { clean: true, summary: 'reconcile clean (stub)' };
    if (m && (m[2] === 'extract' || m[2] === 'reverse')) answer = {};
    // The write guard: nothing refused, and arming answers like the worker.
    if (path === '/guards') answer = { items: [] };
    if (/^\/contexts\/[^/]+\/guard$/.test(path)) answer = { armed: body.armed };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer));
  }, 0);
  stub.url = server.url;
  return stub;
}
