import { randomBytes } from 'node:crypto';
import { FacadeClient } from './client';
import { OpenLoopScheduler } from './scheduler';
import { LoadStats, type LoadSummary } from './stats';
import { MonolithKeys } from './keys';
import { planTargets, Workload, type PlannedRequest } from './workload';
import type { Plan } from '../../control/plan';

export interface LoadOptions {
  /** Where the traffic goes: the facade, never an upstream directly. */
  facadeUrl: string;
  rps: number;
  /** Omitted: run until `signal` aborts (how `strangler demo` runs load in the background). */
  durationSec?: number;
  /** The plan and the contexts whose routes the run sends. */
  plan: Plan;
  contexts: string[];
  /** The monolith's database, where reads' keys are sampled from. */
  monolithDatabaseUrl: string;
  /** Sticky users the requests act as (`x-user-id`, unless `headers` carry the app's own credentials). */
  actors: number;
  /** Sent with every request (`--header`, `--token`). */
  headers?: Record<string, string>;
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
  /** Resolves once keys are sampled and requests go out; rejects (like `done`) when the run cannot start. */
  readonly started: Promise<void>;
  /** What the run sends, with its key pools (for a caller that wants to make one of its requests itself). */
  workload(): Workload;
  /** Later requests are reads only; resolves once no write is in flight any more. */
  pauseWrites(): Promise<void>;
  resumeWrites(): void;
  readonly writesPaused: boolean;
  progress(): LoadProgress;
}

/** The facade did not answer at all before the run: nothing to measure. */
export class FacadeUnreachableError extends Error {}
/** Nothing to send: no route of the contexts can be requested (no keys, no examples), or the keys cannot be read. */
export class LoadSetupError extends Error {}

/** Starts a run; the handle pauses and resumes writes while it goes, `done` gives the summary. */
export function startLoad(options: LoadOptions): LoadRun {
  const facadeUrl = options.facadeUrl.replace(/\/+$/, '');
  const maxInFlight = options.maxInFlight ?? 256;
  const client = new FacadeClient(facadeUrl, { maxSockets: maxInFlight, timeoutMs: options.timeoutMs ?? 10_000 });
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  // Replaced once the monolith's tables are known (sampleKeys); until then there is nothing to send.
  let workload = new Workload(runId, [], options.actors, options.random);
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
    const request: PlannedRequest | undefined = workload.next(!writesPaused);
    if (!request) return;
    if (request.write) writesInFlight += 1;
    try {
      const outcome = await client.send({ ...request, headers: options.headers, actor: options.headers ? undefined : request.actor, requestId: requestId() });
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

  /** The monolith's tables and real keys for every parameter and `{{key …}}` the targets use. */
  async function sampleKeys(): Promise<string[]> {
    let keys: MonolithKeys;
    try {
      keys = await MonolithKeys.open(options.monolithDatabaseUrl);
    } catch (err) {
      throw new LoadSetupError(`cannot read keys from the monolith's database: ${(err as Error).message || (err as { code?: string }).code}`);
    }
    try {
      const planned = planTargets(options.plan, options.contexts, await keys.tables());
      workload = new Workload(runId, planned.targets, options.actors, options.random);
      for (const ref of workload.neededKeys()) {
        workload.addKeys(ref, await keys.sample(ref).catch((err: Error) => {
          throw new LoadSetupError(`cannot sample keys of ${ref.table}.${ref.column}: ${err.message}`);
        }));
      }
      if (!workload.runnable.length) {
        throw new LoadSetupError(`nothing to send on ${options.contexts.join(', ')}: ${[...planned.skipped, 'reads found no keys in the monolith\'s tables and no write has an example'].join('; ')}`);
      }
      return planned.skipped;
    } finally {
      await keys.close();
    }
  }

  /** Any answer at all will do: only a facade that does not answer makes the run pointless. */
  async function probe(): Promise<void> {
    const o = await client.send({ method: 'GET', path: '/_strangler/health', requestId: requestId() });
    if (o.status === null) throw new FacadeUnreachableError(`cannot reach the facade at ${new URL(facadeUrl).origin}: ${o.error?.message}`);
  }

  async function run(): Promise<LoadSummary> {
    await probe();
    const notSent = options.signal?.aborted ? [] : await sampleKeys();
    markStarted();
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
      target: { rps: options.rps, durationSec: options.durationSec ?? null, actors: options.actors, contexts: options.contexts },
      keys: workload.keyCounts(),
      skipped: notSent,
      dropped: scheduler?.dropped ?? 0,
      elapsedSec: progress().elapsedSec,
    });
  }

  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const done = run().finally(() => client.close());
  // `started` settles with the run's failure too; the caller may await either.
  const startedOrFailed = Promise.race([started, done.then(() => undefined)]);
  startedOrFailed.catch(() => undefined);
  return {
    done,
    started: startedOrFailed,
    workload: () => workload,
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

/** A whole run: keys, then `rps` for `durationSec` (or until `signal` aborts), then the summary. */
export function runLoad(options: LoadOptions): Promise<LoadSummary> {
  return startLoad(options).done;
}
