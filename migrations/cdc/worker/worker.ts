import { Client } from 'pg';
import type { Logger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import type { Messaging } from '../../../lib/messaging/types';
import { getContext, writeOwner, type Plan } from '../../../control/plan';
import { reconcile, type ReconcileResult } from '../../reconcile';
import { topicFor } from '../events/envelope';
import { applyGuard, readGuard, resetGuard, type GuardStatus } from '../guard/write-guard';
import { assignDisjointIdRange, IdRangeError } from '../ids';
import { readSinkOffsets } from '../offsets/sink-offsets';
import { guardedTables, pipelinesFor, type Direction, type PipelineDefinition } from '../pipeline/definition';
import { CdcSink, type SinkState, type SinkStatus } from '../sink';
import { BulkLoadRefusedError } from '../snapshot/bulk-load';
import { CdcSource, HEARTBEAT_PREFIX, type SourceState } from '../source';
import { parseLsn } from '../pg/lsn';
import type { PipelineRegistry } from './registry';
import type { ConflictEntry, PipelineState, PipelineStatus, Side, Stage, SyncResult } from '../../../control/contracts';
import { readConflicts } from '../sink/conflict-log';
import { pollUntil } from '../../../lib/retry';

export class WorkerError extends Error {
  constructor(
    message: string,
    readonly status = 409,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

export type { PipelineState } from '../../../control/contracts';

/**
 * The worse of the two halves. `retrying` (Kafka refusing the source's changes, or the target refusing the sink's)
 * must show: a pipeline that delivers nothing is not `streaming`, whatever its connections say, and the gates that
 * require a streaming pipeline must not pass on it.
 */
export function pipelineState(source: SourceState, sink: SinkState): PipelineState {
  const states: string[] = [source, sink];
  if (states.includes('error')) return 'error';
  if (states.includes('stopped')) return 'stopped';
  if (states.includes('retrying')) return 'retrying';
  return source === 'snapshotting' ? 'snapshotting' : 'streaming';
}

interface Running {
  definition: PipelineDefinition;
  source: CdcSource;
  sink: CdcSink;
}

/** What `GET /pipelines` answers: the contract's fields plus the source's and sink's own details. */
export interface PipelineView extends PipelineStatus {
  direction: Direction;
  source: Awaited<ReturnType<CdcSource['status']>> | null;
  sink: SinkStatus | null;
}

/**
 * Runs a plan's CDC pipelines (source + sink each) in one process, in the style of a Kafka Connect worker: a REST
 * API starts them as stages require, reports their state, and answers the two questions stage changes ask —
 * "has the receiving side caught up?" (read-your-writes) and "are both sides equal?" (reconcile).
 */
/** Catch-ups after the full pass of a reconcile under live traffic; a difference must outlive all of them. */
export const RECONCILE_RECHECK_ROUNDS = 3;

export class CdcWorker {
  private readonly running = new Map<string, Running>();
  /** Per context, the side that takes its writes in the stage the stage service last told. */
  private readonly stages = new Map<string, Side>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly messaging: Messaging;

  constructor(
    private readonly plan: Plan,
    private readonly serverUrl: string,
    private readonly brokers: string,
    private readonly registry: PipelineRegistry,
    private readonly logger: Logger,
  ) {
    this.messaging = createMessaging({ brokers, clientId: 'strangler-cdc-worker', logger });
  }

  definitions(context: string): { forward: PipelineDefinition; reverse: PipelineDefinition } {
    try {
      getContext(this.plan, context);
    } catch (err) {
      throw new WorkerError((err as Error).message, 404);
    }
    return pipelinesFor(this.plan, context, this.serverUrl);
  }

  /** Resumes what was running before a restart. */
  async resume(): Promise<void> {
    for (const s of await this.registry.stages()) this.stages.set(s.context, writeOwner(s.stage, s.percent));
    for (const p of await this.registry.desiredRunning()) {
      if (!this.plan.contexts[p.context]) continue;
      this.startPipeline(this.definitions(p.context)[p.direction]).catch((err: Error) =>
        this.logger.error({ pipeline: p.name, err: err.message }, 'pipeline failed to resume'),
      );
    }
  }

  /**
   * Extraction: disjoint id ranges, then the forward pipeline with its first snapshot. Idempotent. `force`: a bulk
   * load truncates service tables that already hold rows instead of refusing.
   */
  async extract(context: string, options: { force?: boolean } = {}): Promise<PipelineView> {
    const { forward } = this.definitions(context);
    const ids = await assignDisjointIdRange(forward).catch((err: Error) => {
      throw err instanceof IdRangeError ? new WorkerError(`id ranges of ${context}: ${err.message}`) : err;
    });
    if (!ids.ok) throw new WorkerError(`id ranges of ${context} are not disjoint: ${ids.problems.join('; ')}`);
    // Before the first mirrored request: from here on the service's own commits to its captured tables are refused
    // (also when a context rolled back to the monolith enters shadow again; canary opens them).
    await this.guard(context, true);
    await this.registry.setDesired(forward.name, context, 'forward', 'running');
    await this.startPipeline(forward, { truncateTarget: options.force === true });
    return this.view(forward.name);
  }

  async startReverse(context: string): Promise<PipelineView> {
    const { reverse } = this.definitions(context);
    // The reverse pipeline runs from canary on: the service takes real writes now (reference tables stay guarded).
    await this.guard(context, false);
    await this.registry.setDesired(reverse.name, context, 'reverse', 'running');
    await this.startPipeline(reverse);
    return this.view(reverse.name);
  }

  /** The stage service tells every move (and the stage before a worker's first move): `stageOwnerWins` decides by it. */
  async setStage(context: string, stage: Stage, percent: number): Promise<{ context: string; owner: Side }> {
    this.definitions(context);
    await this.registry.setStage(context, stage, percent);
    const owner = writeOwner(stage, percent);
    this.stages.set(context, owner);
    return { context, owner };
  }

  /** Newest first, from the targets of both of the context's pipelines. */
  async conflicts(context: string, limit: number): Promise<ConflictEntry[]> {
    const { forward, reverse } = this.definitions(context);
    const lists = await Promise.all(
      [forward, reverse].map((d) =>
        readConflicts(d.target.databaseUrl, d.name, limit).catch((err: Error) => {
          throw new WorkerError(`conflicts of ${d.name} in ${d.target.database}: ${err.message}`, 502);
        }),
      ),
    );
    return lists.flat().sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
  }

  /**
   * Arms (shadow) or disarms (canary on) the write guard on the service's captured tables; reference tables stay
   * armed. `graceMs` lets requests the service took before a rollback finish without counting as violations.
   */
  async guard(context: string, armed: boolean, graceMs = 0): Promise<void> {
    const { forward } = this.definitions(context);
    const tables = guardedTables(this.plan, context);
    if (!tables.length) return;
    await applyGuard(forward.target.databaseUrl, context, tables, armed, graceMs).catch((err: Error) => {
      throw new WorkerError(`write guard of ${context} in ${forward.target.database}: ${err.message}`, 502);
    });
  }

  /** Per context with a guard installed: refused writes, their last one, and which tables are armed. */
  async guards(): Promise<(GuardStatus | { context: string; error: string })[]> {
    const contexts = Object.keys(this.plan.contexts).filter((c) => guardedTables(this.plan, c).length > 0);
    const byDatabase = new Map<string, string[]>();
    for (const c of contexts) {
      const url = this.definitions(c).forward.target.databaseUrl;
      byDatabase.set(url, [...(byDatabase.get(url) ?? []), c]);
    }
    const results = await Promise.all(
      [...byDatabase].map(async ([url, names]) => {
        try {
          return (await readGuard(url)).filter((g) => names.includes(g.context));
        } catch (err) {
          return names.map((context) => ({ context, error: `cannot read the write guard: ${(err as Error).message}` }));
        }
      }),
    );
    return results.flat().sort((a, b) => a.context.localeCompare(b.context));
  }

  async resetGuard(context: string): Promise<void> {
    await resetGuard(this.definitions(context).forward.target.databaseUrl, context);
  }

  private startPipeline(definition: PipelineDefinition, options: { truncateTarget?: boolean } = {}): Promise<void> {
    if (this.running.has(definition.name)) return Promise.resolve();
    const pending = this.starting.get(definition.name);
    if (pending) return pending;
    const start = (async () => {
      const logger = this.logger.child({ pipeline: definition.name });
      const sink = new CdcSink({ definition, brokers: this.brokers, logger, stageOwner: () => this.stages.get(definition.context) ?? 'monolith' });
      const source = new CdcSource({ definition, brokers: this.brokers, logger, truncateTarget: options.truncateTarget });
      // Listed while the snapshot runs, so its progress shows in the API and the CLI.
      this.running.set(definition.name, { definition, source, sink });
      try {
        await startHalves(definition, sink, source);
      } catch (err) {
        this.running.delete(definition.name);
        await source.stop().catch(() => undefined);
        await sink.stop().catch(() => undefined);
        if (err instanceof BulkLoadRefusedError) throw new WorkerError(err.message);
        throw err;
      }
      logger.info('pipeline running');
    })().finally(() => this.starting.delete(definition.name));
    this.starting.set(definition.name, start);
    return start;
  }

  async pipelines(): Promise<PipelineView[]> {
    return Promise.all([...this.running.keys()].sort().map((name) => this.view(name)));
  }

  async view(name: string): Promise<PipelineView> {
    const r = this.running.get(name);
    if (!r) throw new WorkerError(`pipeline ${name} is not running`, 404);
    const [source, sink] = await Promise.all([r.source.status(), Promise.resolve(r.sink.status())]);
    const state = pipelineState(source.state, sink.state);
    return {
      name,
      context: r.definition.context,
      direction: r.definition.direction,
      state,
      // An idle pipeline is not lagging: lag is what the receiving side has not applied yet.
      lagMs: sink.lagMs === null ? (state === 'streaming' ? 0 : null) : sink.lagMs,
      lagBytes: source.lagBytes ?? null,
      source,
      sink,
    };
  }

  /**
   * Read-your-writes: takes the sending database's current WAL position (marked with a heartbeat message the
   * source acknowledges once everything before it is in Kafka), then waits until the sink has consumed every
   * message the pipeline's topics held at that moment.
   */
  async sync(context: string, direction: Direction, timeoutMs: number): Promise<SyncResult> {
    const definition = this.definitions(context)[direction];
    const r = this.running.get(definition.name);
    if (!r) throw new WorkerError(`pipeline ${definition.name} is not running`);
    const started = Date.now();
    const deadline = started + timeoutMs;
    const source = new Client({ connectionString: definition.source.databaseUrl, application_name: 'strangler-cdc-sync' });
    // A server-side disconnect must fail this sync, not crash the worker with an unhandled 'error' event.
    source.on('error', () => undefined);
    await source.connect();
    let lsn: string;
    try {
      const { rows } = await source.query<{ lsn: string }>('SELECT pg_logical_emit_message(false, $1, $2)::text AS lsn', [HEARTBEAT_PREFIX, 'sync']);
      lsn = rows[0].lsn;
    } finally {
      await source.end();
    }
    const mark = parseLsn(lsn);
    const waitFor = (done: () => Promise<boolean>) => pollUntil(done, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 50 });
    const inKafka = await waitFor(async () => {
      const acked = (await r.source.status()).lastAckedLsn;
      return acked !== null && parseLsn(acked) >= mark;
    });
    if (!inKafka) return { caughtUp: false, waitedMs: Date.now() - started, lsn };
    const topics = definition.source.tables.map((t) => topicFor(definition.topicPrefix, 'public', t));
    const ends = (await Promise.all(topics.map(async (topic) => (await this.messaging.admin.endOffsets(topic)).map((o) => ({ topic, ...o }))))).flat();
    const target = new Client({ connectionString: definition.target.databaseUrl, application_name: 'strangler-cdc-sync' });
    target.on('error', () => undefined);
    await target.connect();
    try {
      const applied = await waitFor(async () => {
        const stored = await readSinkOffsets(target, definition.name).catch(() => []);
        return ends.every((e) => {
          const high = BigInt(e.offset);
          if (high === 0n) return true;
          const s = stored.find((x) => x.topic === e.topic && x.partition === e.partition);
          return s !== undefined && s.offset >= high - 1n;
        });
      });
      return { caughtUp: applied, waitedMs: Date.now() - started, lsn };
    } finally {
      await target.end();
    }
  }

  async reconcile(context: string, options: { limit?: number; onProgress?: Parameters<typeof reconcile>[0]['onProgress'] } = {}): Promise<ReconcileResult & { summary: string }> {
    const { forward, reverse } = this.definitions(context);
    // Let what each running pipeline has already taken land on the other side, so that rows merely in flight are not
    // reported. Under live traffic new writes land during the pass too: the keys that differ are compared again after
    // another catch-up, and only differences that outlive every round are reported.
    const settle = async () => {
      for (const d of [forward, reverse]) {
        if (this.running.has(d.name)) await this.sync(context, d.direction, 10_000).catch(() => undefined);
      }
    };
    await settle();
    const recheck = this.running.has(forward.name) || this.running.has(reverse.name) ? { rounds: RECONCILE_RECHECK_ROUNDS, settle } : undefined;
    const result = await reconcile({ definition: forward, limit: options.limit, onProgress: options.onProgress, recheck });
    return { ...result, summary: summarize(result) };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.starting.values()]);
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        await r.source.stop().catch(() => undefined);
        await r.sink.stop().catch(() => undefined);
      }),
    );
    this.running.clear();
    await this.messaging.disconnect();
  }
}

/**
 * Events snapshot: the sink first, so it is in its group and applies the snapshot while the source still reads it. A
 * bulk load sends the sink nothing until streaming starts, so both start at once and the consumer-group join (seconds
 * on a busy broker) overlaps the load.
 */
export async function startHalves(definition: PipelineDefinition, sink: { start(): Promise<void> }, source: { start(): Promise<void> }): Promise<void> {
  if (definition.snapshot !== 'bulk') {
    await sink.start();
    await source.start();
    return;
  }
  const [s, t] = await Promise.allSettled([sink.start(), source.start()]);
  // The source's refusal (a non-empty target) says more than the sink's failure it may have caused.
  if (t.status === 'rejected') throw t.reason;
  if (s.status === 'rejected') throw s.reason;
}

export function summarize(result: ReconcileResult): string {
  const inFlight = result.tables.reduce((n, t) => n + (t.inFlight ?? 0), 0);
  const settled = inFlight ? `; ${inFlight} change(s) in flight settled on re-check` : '';
  if (result.clean) return `reconcile clean (${result.tables.map((t) => `${t.target}: ${t.targetRows} rows`).join(', ')}${settled})`;
  return `reconcile found differences: ${result.tables
    .filter((t) => t.missingCount + t.extraCount + t.differentCount > 0)
    .map((t) => `${t.target}: ${t.missingCount} missing, ${t.extraCount} extra, ${t.differentCount} different`)
    .join('; ')}${settled}`;
}
