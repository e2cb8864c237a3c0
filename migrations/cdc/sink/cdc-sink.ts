import { Pool } from 'pg';
import type { Side } from '../../../control/contracts';
import { createPool } from '../../../lib/db/pool';
import type { Logger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import type { BatchControl, Consumer, Messaging, Producer, ReceivedBatch } from '../../../lib/messaging/types';
import { topicFor } from '../events/envelope';
import { ContextMapping, loadTables, type TableInfo } from '../mapping';
import { eventOptionsOf, type PipelineDefinition } from '../pipeline/definition';
import { markSinkTransaction } from '../pg/loop-guard';
import type { ApplyContext } from './apply-context';
import { ChunkApplier, type ChunkOutcome } from './chunk-applier';
import { SchemaChangeError, SinkStateError, SinkStoppedError, describeError } from './errors';
import type { MarkSinkTransaction } from './loop-guard-hook';
import { withClient } from './pooled';
import { DEFAULT_RETRY, retryTransient, type RetryPolicy } from './retry';
import { ensureSinkSchema } from './sink-schema';
import { loadSourceColumns } from './source-columns';
import { SinkStats } from './stats';
import { localWriteUnits, targetTables, validateTarget } from './target';

export type SinkState = 'stopped' | 'starting' | 'streaming' | 'retrying' | 'error';

export interface SinkStatus {
  pipeline: string;
  state: SinkState;
  /** When the last change was committed to the target (ISO-8601), null before the first. */
  lastAppliedAt: string | null;
  /** now − source commit time of the last applied change; null before the first. */
  lagMs: number | null;
  eventsPerSecond: number;
  applied: number;
  /** Changes skipped because the target's own application wrote the same row later (last writer wins). */
  conflicts: number;
  /** Changes skipped because a later change of the same row was applied already (repeats after a source crash). */
  replayed: number;
  deadLetters: number;
  /**
   * Monolith columns (`table.column`) whose values the target has no column for: added on the monolith while the
   * pipeline ran. Left out, the pipeline goes on; map them (`tables.<t>.columns` or `drop`) or add them to the service.
   */
  unmappedColumns: string[];
  /**
   * With state `error`: why. A schema change of the source the target cannot follow (a carried column dropped or
   * renamed, a value wider than its target column) names the table, the column and the remedy; the pipeline stopped
   * before that change and resumes there once restarted.
   */
  error?: string;
}

export interface CdcSinkOptions {
  definition: PipelineDefinition;
  /** `["host:port"]` or `KAFKA_BROKERS`' comma-separated form. */
  brokers: string[] | string;
  logger: Logger;
  /**
   * Loop prevention: runs first in every sink transaction. The default is the source side's `markSinkTransaction`
   * (a transactional logical-decoding message the opposite pipeline's source drops the transaction for).
   */
  markTransaction?: MarkSinkTransaction;
  /** Most events applied in one target transaction (default 5000; a larger Kafka batch is split into chunks). */
  maxTransactionEvents?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * What to do with snapshot reads (`op: "r"`). Default: `apply` for a forward pipeline, `skip` for a reverse one.
   * Every row a service holds when its reverse pipeline starts came from the monolith through the forward pipeline,
   * and that copy may lag: applying it would roll monolith rows back. So the reverse pipeline carries only what the
   * service writes once it runs, which is why it must run before the service takes writes (canary).
   */
  snapshotReads?: 'apply' | 'skip';
  /** Partitions for topics this sink has to create because no source did yet. */
  topicPartitions?: number;
  /** Messaging client (tests share one); by default the sink creates and owns its own. */
  messaging?: Messaging;
  /**
   * The side that takes the context's writes in its current stage, for tables whose conflict policy is
   * `stageOwnerWins` (the CDC worker answers from the stage it was last told); the monolith when not given.
   */
  stageOwner?: () => Side;
}

/**
 * Consumes one pipeline's topics and applies them to its target database through the plan's mapping. Each chunk of a
 * partition is one target transaction that also stores the partition's offset, so after any crash the target holds
 * exactly the changes up to the stored offset, and redelivered messages at or below it are skipped.
 */
export class CdcSink {
  private readonly definition: PipelineDefinition;
  private readonly log: Logger;
  private readonly stats = new SinkStats();
  private readonly retry: RetryPolicy;
  private readonly ownsMessaging: boolean;
  private readonly messaging: Messaging;
  private state: SinkState = 'stopped';
  private started = false;
  private error: string | undefined;
  private halted: SchemaChangeError | undefined;
  private pool: Pool | undefined;
  private readonly unmappedColumns = new Set<string>();
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private applier: ChunkApplier | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly options: CdcSinkOptions) {
    this.definition = options.definition;
    this.log = options.logger.child({ pipeline: this.definition.name, component: 'cdc-sink' });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.ownsMessaging = !options.messaging;
    this.messaging =
      options.messaging ?? createMessaging({ brokers: options.brokers, clientId: `strangler-sink-${this.definition.name}`, logger: options.logger });
  }

  /** The topics this sink consumes: one per source table. */
  get topics(): string[] {
    return this.definition.source.tables.map((t) => topicFor(this.definition.topicPrefix, 'public', t));
  }

  /**
   * Prepares the target (schema `strangler_cdc`, local-write triggers), checks the plan against it, then joins the
   * consumer group. Waits through a target that is down; a plan that does not fit the target throws.
   */
  async start(): Promise<void> {
    if (this.started) throw new SinkStateError(`sink ${this.definition.name} was already started`);
    this.started = true;
    this.state = 'starting';
    const def = this.definition;
    try {
      this.pool = createPool({ connectionString: def.target.databaseUrl, application_name: `strangler-sink-${def.name}`, max: 2 }, (err) =>
        this.log.warn({ err }, 'idle target connection failed'),
      );
      const mapping = new ContextMapping(def.mapping);
      const { tables, sourceColumns } = await this.prepareTarget(mapping);
      const ctx: ApplyContext = {
        pipeline: def.name,
        mapping,
        tables,
        unmappedColumns: this.unmappedColumns,
        direction: def.direction,
        sourceColumns,
        stageOwner: this.options.stageOwner ?? (() => 'monolith'),
      };
      this.producer = this.messaging.producer({ idempotent: true });
      this.applier = new ChunkApplier({
        ctx,
        direction: def.direction,
        markTransaction: this.options.markTransaction ?? markSinkTransaction,
        skipSnapshotReads: (this.options.snapshotReads ?? (def.direction === 'reverse' ? 'skip' : 'apply')) === 'skip',
        sendDeadLetters: (messages) => this.producer!.send(def.deadLetterTopic, messages),
      });
      await this.messaging.admin.ensureTopics([...this.topics, def.deadLetterTopic], this.options.topicPartitions ?? 1);
      if (this.abort.signal.aborted) throw new SinkStoppedError();
      this.consumer = this.messaging.consumer(def.consumerGroup);
      // From the beginning for a new group: the target's stored offsets decide what is skipped, not the group's.
      await this.consumer.run({ topics: this.topics, fromBeginning: true, eachBatch: (batch, control) => this.onBatch(batch, control) });
      if (this.abort.signal.aborted) throw new SinkStoppedError();
      // The first batches may have stopped it at a schema change already.
      if (!this.halted) this.state = 'streaming';
      this.log.info({ topics: this.topics, target: def.target.database }, 'sink streaming');
    } catch (err) {
      // stop() during start-up: whatever failed because of it is no error of the sink.
      if (err instanceof SinkStoppedError || this.abort.signal.aborted) return;
      this.state = 'error';
      this.error = describeError(err).message;
      await this.release();
      throw err;
    }
  }

  /** Finishes the chunk in progress (or abandons a retry), leaves the group and closes every connection. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.release();
    this.state = 'stopped';
  }

  status(): SinkStatus {
    const s = this.stats;
    return {
      pipeline: this.definition.name,
      state: this.state,
      lastAppliedAt: s.lastAppliedAt?.toISOString() ?? null,
      lagMs: s.lagMs(),
      eventsPerSecond: s.eventsPerSecond(),
      applied: s.applied,
      conflicts: s.conflicts,
      replayed: s.replayed,
      deadLetters: s.deadLetters,
      unmappedColumns: [...this.unmappedColumns].sort(),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private async prepareTarget(mapping: ContextMapping): Promise<{ tables: Map<string, TableInfo>; sourceColumns: Map<string, string[]> }> {
    const { direction } = this.definition;
    return retryTransient(
      () =>
        withClient(this.pool!, async (client) => {
          // The pipeline's decimal and time modes tell how the topic's values (without a schema) are encoded.
          const tables = await loadTables(client, targetTables(direction, mapping), 'public', eventOptionsOf(this.definition));
          validateTarget(direction, mapping, tables);
          await ensureSinkSchema(client, localWriteUnits(direction, mapping, tables));
          return { tables, sourceColumns: await loadSourceColumns(client, this.definition.name) };
        }),
      // Waits as long as it takes: nothing is consumed yet, so there is no session to keep alive.
      { ...this.retry, budgetMs: Number.POSITIVE_INFINITY },
      this.abort.signal,
      (err, attempt, delayMs) => this.onRetry(err, attempt, delayMs),
      (err) => isConfigError(err),
    );
  }

  private async onBatch(batch: ReceivedBatch, control: BatchControl): Promise<void> {
    // Stopped at a schema change: nothing more is applied, and the failed handler keeps Kafka's offset where it was.
    if (this.halted) throw this.halted;
    const size = this.options.maxTransactionEvents ?? 5000;
    const partitionKey = `${batch.topic}/${batch.partition}`;
    // Keeps the group membership through long batches and retries. A failed heartbeat means a rebalance: what this
    // batch applies is skipped by position when it is delivered again, so carrying on is harmless.
    const alive = () => control.heartbeat().catch(() => undefined);
    for (let i = 0; i < batch.messages.length; i += size) {
      const chunk = batch.messages.slice(i, i + size);
      this.stats.pending(partitionKey, chunk[0].timestamp);
      const began = Date.now();
      if (i > 0) await alive();
      const outcome = await retryTransient(
        () => this.applier!.apply(this.pool!, batch.topic, batch.partition, chunk),
        this.retry,
        this.abort.signal,
        (err, attempt, delayMs) => {
          this.onRetry(err, attempt, delayMs);
          void alive();
        },
      );
      this.record(batch.topic, batch.partition, outcome);
      if (outcome.halted) this.halt(outcome.halted);
      this.log.debug({ topic: batch.topic, partition: batch.partition, messages: chunk.length, applied: outcome.applied, ms: Date.now() - began }, 'chunk committed');
    }
    this.stats.batchDone(partitionKey, BigInt(batch.messages[batch.messages.length - 1].offset) + 1n >= BigInt(batch.highWatermark));
  }

  /**
   * Stops at a change the target cannot take until the plan or the target changes: state `error` with what to do,
   * the consumer leaves (in the background: it waits for this handler, which fails so nothing is acknowledged).
   */
  private halt(err: SchemaChangeError): never {
    this.halted = err;
    this.state = 'error';
    this.error = err.message;
    this.log.error({ table: err.table, column: err.column }, err.message);
    const consumer = this.consumer;
    setImmediate(() => void consumer?.disconnect().catch((e) => this.log.warn({ err: e }, 'leaving the consumer group failed')));
    throw err;
  }

  private onRetry(err: unknown, attempt: number, delayMs: number): void {
    this.state = 'retrying';
    this.error = describeError(err).message;
    this.log.warn({ err, attempt, delayMs }, 'target unavailable, retrying');
  }

  private record(topic: string, partition: number, outcome: ChunkOutcome): void {
    if (this.state === 'retrying') {
      this.state = 'streaming';
      this.error = undefined;
      this.log.info('target reachable again');
    }
    if (!outcome.fresh) return;
    const s = this.stats;
    s.applied += outcome.applied;
    s.conflicts += outcome.conflicts.length;
    s.replayed += outcome.stale;
    s.deadLetters += outcome.deadLetters.length;
    s.lastAppliedAt = new Date();
    if (outcome.lastSourceTs !== null) s.lastSourceTs = outcome.lastSourceTs;
    s.record(outcome.fresh);
    for (const c of outcome.conflicts) {
      const kept = c.chosen === (this.definition.direction === 'forward' ? 'monolith' : 'service') ? "the change's version applied" : "the target's version kept, the change skipped";
      this.log.warn(
        { table: c.table, key: c.key, sourceTs: c.sourceTs, targetWriteTs: c.currentTs, policy: c.policy, chosen: c.chosen, topic, partition, offset: c.offset },
        `conflict on ${c.table} ${JSON.stringify(c.key)}: the target wrote the row after the source committed this change; ${kept} (${c.policy})`,
      );
    }
    if (outcome.stale) this.log.debug({ topic, partition, stale: outcome.stale }, 'skipped changes older than what their rows already have');
    if (outcome.skippedReads) this.log.debug({ topic, partition, reads: outcome.skippedReads }, 'snapshot reads left out (snapshotReads: skip)');
    for (const d of outcome.deadLetters) {
      this.log.warn({ topic, partition, offset: d.offset, error: d.error, deadLetterTopic: this.definition.deadLetterTopic }, 'poison event dead-lettered');
    }
  }

  private async release(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (this.ownsMessaging) {
      await this.messaging.disconnect().catch((err) => this.log.warn({ err }, 'disconnecting from Kafka failed'));
    } else {
      await this.consumer?.disconnect().catch((err) => this.log.warn({ err }, 'leaving the consumer group failed'));
      await this.producer?.disconnect().catch(() => undefined);
    }
    await pool?.end().catch(() => undefined);
  }
}

/** The plan and the target disagree, or a table is missing: waiting does not help. */
function isConfigError(err: unknown): boolean {
  const name = (err as { name?: unknown })?.name;
  return name === 'MappingConfigError' || name === 'CatalogError';
}
