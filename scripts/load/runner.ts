import { randomBytes } from 'node:crypto';
import { FacadeClient } from './client';
import { OpenLoopScheduler } from './scheduler';
import { LoadStats, type LoadSummary } from './stats';
import { Workload, type PlannedRequest } from './workload';

export interface LoadOptions {
  /** Where the traffic goes: the facade, never an upstream directly. */
  facadeUrl: string;
  rps: number;
  /** Omitted: run until `signal` aborts (how `strangler demo` runs load in the background). */
  durationSec?: number;
  /** Load users created through the facade before the run. */
  users: number;
  /** Stops scheduling early; requests already sent still finish and are counted. */
  signal?: AbortSignal;
  /** About once a second while requests are scheduled. */
  onTick?(progress: LoadProgress): void;
  /** Default 256. */
  maxInFlight?: number;
  /** Per request, default 10 000 ms. */
  timeoutMs?: number;
  random?: () => number;
}

export interface LoadProgress {
  elapsedSec: number;
  sent: number;
  completed: number;
  inFlight: number;
  dropped: number;
  achievedRps: number;
  errors: number;
  p99Ms: number;
  writesPaused: boolean;
}

export interface LoadRun {
  readonly done: Promise<LoadSummary>;
  /** Later requests are reads only; resolves once no write is in flight any more. */
  pauseWrites(): Promise<void>;
  resumeWrites(): void;
  readonly writesPaused: boolean;
  progress(): LoadProgress;
}

/** The facade did not answer at all before the run: nothing to measure. */
export class FacadeUnreachableError extends Error {}
/** Not a single load user could be created: the run would have no one to act as. */
export class LoadSetupError extends Error {}

const SETUP_CONCURRENCY = 16;

/** Starts a run; the handle pauses and resumes writes while it goes, `done` gives the summary. */
export function startLoad(options: LoadOptions): LoadRun {
  const facadeUrl = options.facadeUrl.replace(/\/+$/, '');
  const maxInFlight = options.maxInFlight ?? 256;
  const client = new FacadeClient(facadeUrl, { maxSockets: maxInFlight, timeoutMs: options.timeoutMs ?? 10_000 });
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const workload = new Workload(runId, options.random);
  const stats = new LoadStats();
  let scheduler: OpenLoopScheduler | undefined;
  let startedAt: number | undefined;
  let endedAt: number | undefined;
  let seq = 0;
  let writesPaused = false;
  let writesInFlight = 0;
  let writeWaiters: (() => void)[] = [];

  const requestId = () => `load-${runId}-${++seq}`;

  const progress = (): LoadProgress => {
    // Wall time including the drain after the last arrival, so the rate shown while draining is the real one.
    const elapsedSec = startedAt === undefined ? 0 : ((endedAt ?? performance.now()) - startedAt) / 1000;
    return {
      elapsedSec,
      sent: scheduler?.sent ?? 0,
      completed: stats.requests,
      inFlight: scheduler?.active ?? 0,
      dropped: scheduler?.dropped ?? 0,
      achievedRps: elapsedSec > 0 ? stats.requests / elapsedSec : 0,
      errors: stats.errors,
      p99Ms: stats.latency.percentile(0.99),
      writesPaused,
    };
  };

  const fire = async (): Promise<void> => {
    const request: PlannedRequest = workload.next(!writesPaused);
    if (request.write) writesInFlight += 1;
    try {
      const outcome = await client.send({ ...request, requestId: requestId() });
      workload.observe(request, outcome.status, outcome.body);
      stats.record(request.route, outcome);
    } finally {
      if (request.write && --writesInFlight === 0) {
        const waiters = writeWaiters;
        writeWaiters = [];
        for (const w of waiters) w();
      }
    }
  };

  async function createUsers(): Promise<{ created: number; failed: number }> {
    let next = 0;
    let failed = 0;
    let firstFailure = '';
    const worker = async () => {
      while (next < options.users && !options.signal?.aborted) {
        next += 1;
        const o = await client.send({ method: 'POST', path: '/api/users', body: workload.newUser(), requestId: requestId() });
        const id = (o.body as { id?: unknown } | undefined)?.id;
        if (o.status === 201 && typeof id === 'number') {
          workload.addUser(id);
        } else {
          failed += 1;
          const err = (o.body as { error?: { code?: string; message?: string } } | undefined)?.error;
          firstFailure ||= o.error ? `${o.error.key}: ${o.error.message}` : `${o.status} ${err?.code ?? ''}: ${err?.message ?? ''}`.trim();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, options.users) }, worker));
    if (workload.userCount === 0 && !options.signal?.aborted) {
      throw new LoadSetupError(`could not create any load user through the facade (first failure: ${firstFailure})`);
    }
    return { created: workload.userCount, failed };
  }

  /** Any answer at all will do: only a facade that does not answer makes the run pointless. */
  async function probe(): Promise<void> {
    const o = await client.send({ method: 'GET', path: '/_strangler/health', requestId: requestId() });
    if (o.status === null) throw new FacadeUnreachableError(`cannot reach the facade at ${new URL(facadeUrl).origin}: ${o.error?.message}`);
  }

  async function run(): Promise<LoadSummary> {
    await probe();
    const users = await createUsers();
    if (!options.signal?.aborted) {
      const s = new OpenLoopScheduler({
        rps: options.rps,
        durationMs: options.durationSec === undefined ? undefined : options.durationSec * 1000,
        maxInFlight,
        fire,
      });
      scheduler = s;
      const stop = () => s.stop();
      options.signal?.addEventListener('abort', stop, { once: true });
      const ticker = options.onTick ? setInterval(() => options.onTick!(progress()), 1_000) : undefined;
      startedAt = performance.now();
      s.start();
      try {
        await s.done;
      } finally {
        clearInterval(ticker);
        options.signal?.removeEventListener('abort', stop);
      }
      // Until the last answer: a system that falls behind shows a lower achieved rate, not the offered one.
      endedAt = performance.now();
    }
    return stats.summary({
      target: { rps: options.rps, durationSec: options.durationSec ?? null, users: options.users },
      users,
      dropped: scheduler?.dropped ?? 0,
      elapsedSec: progress().elapsedSec,
    });
  }

  const done = run().finally(() => client.close());
  return {
    done,
    pauseWrites() {
      writesPaused = true;
      return writesInFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => writeWaiters.push(resolve));
    },
    resumeWrites() {
      writesPaused = false;
    },
    get writesPaused() {
      return writesPaused;
    },
    progress,
  };
}

/** A whole run: users, then `rps` for `durationSec` (or until `signal` aborts), then the summary. */
export function runLoad(options: LoadOptions): Promise<LoadSummary> {
  return startLoad(options).done;
}
