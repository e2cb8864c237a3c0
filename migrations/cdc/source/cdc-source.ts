import type { PipelineState } from '../../../control/contracts';
import { createPool } from '../../../lib/db/pool';
import { Pool } from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import type { Logger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import type { Messaging } from '../../../lib/messaging/types';
import { describeTable, type CapturedTable, type SourceContext } from '../events/change-events';
import { topicFor, transactionTopicFor } from '../events/envelope';
import { messageTopicFor } from '../events/message-events';
import type { EventOptions } from '../events/options';
import { SOURCE_OFFSETS_SCHEMA, markSnapshotCompleted, markSnapshotStarted, readSourceOffsets } from '../offsets/source-offsets';
import { eventOptionsOf, type PipelineDefinition } from '../pipeline/definition';
import { bulkLoad, confirmBulkLoad } from '../snapshot/bulk-load';
import { createSlotWithSnapshot } from '../snapshot/exported-snapshot';
import { readSnapshot } from '../snapshot/snapshot-reader';
import { ChangeWriter, type Checkpoint } from '../transport/change-writer';
import { tableShapeByOid, type TableShape } from '../pg/catalog';
import { readerConfig } from '../pg/connection';
import { TransactionDecoder } from './decoder';
import { CdcSourceError, errorText } from '../pg/errors';
import { Heartbeat } from '../pg/heartbeat';
import { markSinkTransaction, oppositePipeline } from '../pg/loop-guard';
import { formatLsn, maxLsn, type Lsn } from '../pg/lsn';
import { RateMeter } from './rate';
import { assertLogicalWal, assertSlotIsOurs, dropSlot, ensurePublication, ensureReplicaIdentityFull, readSlot, resolveTables, waitForSlotInactive } from './setup';
import { ReplicationStream } from './stream';
import { migrateOwnedSchema } from '../../../lib/db/schema-migrations';

/** `retrying`: snapshotting or streaming, but Kafka refuses the changes, or has not acknowledged a batch for 5 s. */
/** The source's states are the pipeline's (the contract the CLI and the facade read). */
export type SourceState = PipelineState;

/** Progress of the first start's snapshot, while it runs. */
export interface SnapshotStatus {
  /** `bulk`: COPY into the target; `events`: `r` events to Kafka. */
  mode: 'bulk' | 'events';
  /** `schema.table` being read (events mode), null in bulk mode, where several tables load at once. */
  table: string | null;
  rows: number;
  /** Estimated from the planner's statistics (bulk mode); null when unknown. */
  totalRows: number | null;
  totalTables: number;
  doneTables: number;
  rowsPerSecond: number;
  /** Seconds left at the current rate; null without an estimate. */
  etaSeconds: number | null;
}

export interface SourceStatus {
  state: SourceState;
  snapshot: SnapshotStatus | null;
  lastReceivedLsn: string | null;
  lastAckedLsn: string | null;
  /** WAL the slot still holds: pg_current_wal_lsn() − confirmed_flush_lsn (null when it cannot be read). */
  lagBytes: number | null;
  /** Commit time (ms) of the last transaction whose changes are all in Kafka. */
  lastCommitTs: number | null;
  eventsPerSecond: number;
  /** Transactions dropped because the opposite pipeline's sink wrote them (loop guard). */
  skippedTransactions: number;
  error?: string;
}

export interface CdcSourceOptions {
  definition: PipelineDefinition;
  brokers: string[] | string;
  logger: Logger;
  /** How often the heartbeat message is written on the source database; 0 disables it. */
  heartbeatIntervalMs?: number;
  snapshotChunkRows?: number;
  maxBatchRecords?: number;
  maxPendingRecords?: number;
  /** Bytes of change records held for Kafka before the replication stream waits (ChangeWriter, default 16 MB). */
  maxPendingBytes?: number;
  /** How long to wait for a slot still held by a previous (killed) run before giving up. */
  slotWaitMs?: number;
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How often the delivered position is reported to Postgres besides keepalive replies (default 10 s). */
  statusIntervalMs?: number;
  /** An existing messaging instance (tests); otherwise one is created from `brokers` and closed by `stop()`. */
  messaging?: Messaging;
  /** Bulk load: truncate target tables that hold rows instead of refusing (`--force`). */
  truncateTarget?: boolean;
  /** Bulk load: reader/writer connection pairs (default 4). */
  bulkParallel?: number;
  /** Bulk load: heap pages per chunk (default 2048). */
  bulkChunkPages?: number;
}

/**
 * The source half of a pipeline: Postgres logical replication → Debezium change events on Kafka.
 *
 * `start()` prepares the source database (replica identity, publication, offsets table), takes the consistent
 * snapshot on the first run, then streams from the slot; it resolves once streaming runs. An LSN is confirmed to
 * Postgres only after every change before it is acknowledged by Kafka, so a crash at any moment loses nothing: the
 * next run resumes from the slot and may repeat what was in flight.
 */
export class CdcSource {
  private readonly definition: PipelineDefinition;
  private readonly logger: Logger;
  private readonly applicationName: string;
  private readonly ctx: SourceContext;
  private readonly events: EventOptions;
  private readonly rate = new RateMeter();
  private state: SourceState = 'stopped';
  private error: string | undefined;
  private progress: SnapshotStatus | null = null;
  private running = false;
  private starting: Promise<void> | null = null;
  private stopping = false;
  private messaging: Messaging | null = null;
  private ownsMessaging = false;
  private pool: Pool | null = null;
  private writer: ChangeWriter | null = null;
  private stream: ReplicationStream | null = null;
  private decoder: TransactionDecoder | null = null;
  private heartbeat: Heartbeat | null = null;
  private deliveredLsn: Lsn | null = null;
  private lastAckedLsn: Lsn | null = null;
  private lastCommitTs: number | null = null;
  private skippedTransactions = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = 0;
  private readonly shapes = new Map<number, TableShape>();

  constructor(private readonly options: CdcSourceOptions) {
    this.definition = options.definition;
    this.logger = options.logger.child({ pipeline: options.definition.name, component: 'cdc-source' });
    this.applicationName = `strangler-source-${options.definition.name}`;
    this.ctx = { name: options.definition.topicPrefix, db: options.definition.source.database };
    this.events = eventOptionsOf(options.definition);
  }

  async start(): Promise<void> {
    if (this.running) throw new CdcSourceError(`source ${this.definition.name} is already running`);
    this.running = true;
    this.stopping = false;
    this.error = undefined;
    this.starting = this.run();
    try {
      await this.starting;
    } finally {
      this.starting = null;
    }
  }

  private async run(): Promise<void> {
    try {
      await this.prepare();
      if (this.stopping) return;
      await this.connectStream();
      this.heartbeat!.start();
    } catch (err) {
      // stop() during start-up: it aborts the snapshot or the connection attempt and cleans up itself.
      if (this.stopping) return;
      this.error = errorText(err);
      this.state = 'error';
      this.logger.error({ err }, 'source failed to start');
      await this.release();
      throw err;
    }
  }

  /** Stops streaming, delivers what is buffered, and confirms it on the slot so a restart repeats nothing. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.heartbeat?.stop();
    this.ackedLsn();
    await this.stream?.stop();
    this.stream = null;
    if (this.writer && !this.writer.lastError) {
      await withTimeout(this.writer.drain(), 15_000).catch((err: unknown) => this.logger.warn({ err: errorText(err) }, 'stopping before all changes were delivered'));
      await this.confirmDeliveredOnSlot();
    }
    await this.release();
    if (this.state !== 'error') this.state = 'stopped';
  }

  async status(): Promise<SourceStatus> {
    const retrying = this.state === 'snapshotting' || this.state === 'streaming' ? this.writer?.retrying : null;
    return {
      state: retrying ? 'retrying' : this.state,
      snapshot: this.state === 'snapshotting' && this.progress ? { ...this.progress } : null,
      lastReceivedLsn: this.decoder?.lastReceivedLsn ? formatLsn(this.decoder.lastReceivedLsn) : null,
      lastAckedLsn: this.ackedLsn() === null ? null : formatLsn(this.ackedLsn()!),
      lagBytes: await this.slotLagBytes(),
      lastCommitTs: this.lastCommitTs,
      eventsPerSecond: this.rate.perSecond(),
      skippedTransactions: this.skippedTransactions + (this.decoder?.skippedTransactions ?? 0),
      ...(this.error ? { error: this.error } : retrying ? { error: `Kafka has not taken changes since ${new Date(retrying.since).toISOString()}: ${retrying.error}` } : {}),
    };
  }

  private async prepare(): Promise<void> {
    const { definition } = this;
    const pool = (this.pool = createPool({ ...readerConfig(definition.source.databaseUrl, this.applicationName), max: 2 }, (err) =>
      this.logger.warn({ err: errorText(err) }, 'idle source connection failed'),
    ));
    await assertLogicalWal(pool);
    const shapes = await resolveTables(pool, definition.source.tables);
    await ensureReplicaIdentityFull(pool, shapes);
    await ensurePublication(pool, definition.publication, shapes);
    await migrateOwnedSchema(pool, SOURCE_OFFSETS_SCHEMA);

    if (!this.messaging) {
      this.ownsMessaging = !this.options.messaging;
      this.messaging = this.options.messaging ?? createMessaging({ brokers: this.options.brokers, clientId: this.applicationName, logger: this.logger });
    }
    this.writer = new ChangeWriter({
      producer: this.messaging.producer({ idempotent: true }),
      admin: this.messaging.admin,
      logger: this.logger,
      maxBatchRecords: this.options.maxBatchRecords,
      maxPendingRecords: this.options.maxPendingRecords,
      maxPendingBytes: this.options.maxPendingBytes,
      onDelivered: (cp) => this.onDelivered(cp),
      onRecords: (n) => this.rate.add(n),
      onFailure: (err) => void this.onWriterFailure(err),
    });
    await this.writer.ensureTopics([
      ...shapes.map((s) => topicFor(definition.topicPrefix, s.schema, s.table)),
      ...(this.events.transactionMetadata ? [transactionTopicFor(definition.topicPrefix)] : []),
      ...(this.events.messagePrefixes.length ? [messageTopicFor(definition.topicPrefix)] : []),
    ]);
    this.heartbeat = new Heartbeat(pool, definition.name, this.options.heartbeatIntervalMs ?? 5_000, this.logger);

    const offsets = await readSourceOffsets(pool, definition.name);
    const slot = await readSlot(pool, definition.slot);
    if (slot) assertSlotIsOurs(definition.slot, slot, definition.source.database);
    if (offsets?.snapshotCompleted && slot) {
      const unsnapshotted = definition.source.tables.filter((t) => !offsets.tables.includes(t));
      if (unsnapshotted.length) {
        this.logger.warn({ tables: unsnapshotted }, 'tables added after the snapshot: only their new changes are captured; reset the pipeline to snapshot them');
      }
      return;
    }
    if (slot) {
      // A slot without a finished snapshot: the previous run died mid-snapshot. Its partial output is already in
      // Kafka (consumers see it twice, which is allowed); the slot's consistent point belongs to that lost snapshot.
      this.logger.warn({ slot: definition.slot }, 'previous snapshot did not finish; dropping its slot and starting over');
      await dropSlot(pool, definition.slot, { waitMs: this.options.slotWaitMs ?? 30_000 });
    } else if (offsets?.snapshotCompleted) {
      this.logger.warn({ slot: definition.slot }, 'replication slot is gone (dropped by hand?); changes since were lost, so the snapshot is taken again');
    }
    await this.snapshot();
  }

  private async snapshot(): Promise<void> {
    const { definition } = this;
    const pool = this.pool!;
    const writer = this.writer!;
    const mode = definition.snapshot ?? 'events';
    this.state = 'snapshotting';
    const startedAt = Date.now();
    const progress: SnapshotStatus = (this.progress = {
      mode,
      table: null,
      rows: 0,
      totalRows: null,
      totalTables: definition.source.tables.length,
      doneTables: 0,
      rowsPerSecond: 0,
      etaSeconds: null,
    });
    await markSnapshotStarted(pool, definition.name, definition.slot, definition.source.tables);
    const exported = await createSlotWithSnapshot(definition.source.databaseUrl, definition.slot, this.applicationName);
    const log = this.logger.child({ consistentPoint: formatLsn(exported.consistentPoint), mode });
    log.info('snapshot started');
    let finished = false;
    try {
      let rows = 0;
      let earlierTables = 0;
      let tableRows = 0;
      if (mode === 'events') {
        rows = await readSnapshot({
          databaseUrl: definition.source.databaseUrl,
          applicationName: this.applicationName,
          snapshotName: exported.snapshotName,
          consistentPoint: exported.consistentPoint,
          tables: definition.source.tables,
          ctx: this.ctx,
          options: this.events,
          output: writer,
          chunkRows: this.options.snapshotChunkRows,
          onProgress: (p) => {
            // p.rows counts the current table's rows and starts again at 0 with the next table.
            if (p.rows < tableRows) earlierTables += tableRows;
            tableRows = p.rows;
            const seconds = (Date.now() - startedAt) / 1000;
            Object.assign(progress, { table: p.table, doneTables: p.doneTables, rows: earlierTables + tableRows });
            progress.rowsPerSecond = seconds > 0 ? Math.round(progress.rows / seconds) : 0;
          },
          isAborted: () => this.stopping,
        });
      } else if (definition.direction === 'forward') {
        rows = await bulkLoad({
          definition,
          snapshotName: exported.snapshotName,
          consistentPoint: exported.consistentPoint,
          applicationName: this.applicationName,
          ctx: this.ctx,
          markTransaction: markSinkTransaction,
          parallel: this.options.bulkParallel,
          chunkPages: this.options.bulkChunkPages,
          truncate: this.options.truncateTarget,
          onProgress: (p) => {
            Object.assign(progress, { rows: p.rows, totalRows: p.totalRows, rowsPerSecond: p.rowsPerSecond, etaSeconds: p.etaSeconds });
            if (p.doneChunks === p.totalChunks) progress.doneTables = progress.totalTables;
          },
          isAborted: () => this.stopping,
        });
      } else {
        // Every row the service holds came from the monolith, which has it: a reverse pipeline carries only what
        // the service writes from now on (see the sink's snapshotReads).
        log.info('reverse pipeline: nothing to load; streaming from the consistent point');
      }
      await writer.drain();
      await markSnapshotCompleted(pool, definition.name, exported.consistentPoint);
      finished = true;
      if (mode === 'bulk' && definition.direction === 'forward') {
        await confirmBulkLoad(definition.target.databaseUrl, definition.name, this.applicationName).catch((err: unknown) =>
          log.warn({ err: errorText(err) }, 'could not mark the bulk load as streaming in the target; a later reload would take its rows for its own leftovers'),
        );
      }
      this.deliveredLsn = exported.consistentPoint;
      log.info({ rows, ms: Date.now() - startedAt }, 'snapshot completed');
    } finally {
      await exported.close();
      this.progress = null;
      // An unfinished snapshot's slot is useless and pins WAL; the next start creates a new one either way.
      if (!finished) await dropSlot(pool, definition.slot, { waitMs: 5_000 }).catch(() => undefined);
    }
  }

  private async connectStream(): Promise<void> {
    const { definition } = this;
    const pool = this.pool!;
    const slot = await waitForSlotInactive(pool, definition.slot, this.options.slotWaitMs ?? 30_000);
    if (!slot) throw new CdcSourceError(`replication slot ${definition.slot} disappeared; restart the source to snapshot again`);
    if (slot.confirmedFlushLsn !== null) this.deliveredLsn = maxLsn(this.deliveredLsn ?? 0n, slot.confirmedFlushLsn);
    if (this.decoder) this.skippedTransactions += this.decoder.skippedTransactions;
    const decoder = (this.decoder = new TransactionDecoder({
      ctx: this.ctx,
      options: this.events,
      resolveTable: (relation) => this.resolveTable(relation),
      output: this.writer!,
      ignoreSinks: new Set([oppositePipeline(definition.name)]),
      logger: this.logger,
      lastCommitLsn: slot.confirmedFlushLsn,
    }));
    const writer = this.writer!;
    const stream = new ReplicationStream({
      databaseUrl: definition.source.databaseUrl,
      applicationName: this.applicationName,
      slot: definition.slot,
      publication: definition.publication,
      handle: async (lsn, msg) => {
        await decoder.handle(lsn, msg);
        if (writer.backlog) await writer.whenWritable();
      },
      deliveredLsn: () => this.deliveredLsn,
      onFailure: (err) => this.onStreamFailure(stream, err),
      logger: this.logger,
      statusIntervalMs: this.options.statusIntervalMs,
    });
    this.stream = stream;
    try {
      await stream.start();
    } catch (err) {
      this.stream = null;
      await stream.stop();
      throw err;
    }
    this.state = 'streaming';
    this.error = undefined;
    this.reconnectDelay = 0;
    this.logger.info({ from: formatLsn(this.deliveredLsn ?? 0n) }, 'streaming');
  }

  private async resolveTable(relation: Pgoutput.MessageRelation): Promise<CapturedTable> {
    let shape = this.shapes.get(relation.relationOid);
    if (!shape) {
      shape = (await tableShapeByOid(this.pool!, relation.relationOid)) ?? undefined;
      if (shape) this.shapes.set(relation.relationOid, shape);
    }
    // The relation message's columns are what the rows carry; the catalog adds base types and the primary key.
    const byName = new Map(shape?.columns.map((c) => [c.name, c]));
    const columns = relation.columns.map((c) => byName.get(c.name) ?? { name: c.name, typeOid: c.typeOid, typeMod: c.typeMod });
    const keyColumns = shape?.keyColumns.length ? shape.keyColumns : relation.replicaIdentity === 'full' ? [] : relation.keyColumns;
    const topic = topicFor(this.definition.topicPrefix, relation.schema, relation.name);
    await this.writer!.ensureTopics([topic]);
    return describeTable(this.definition.topicPrefix, relation.schema, relation.name, columns, keyColumns, this.events);
  }

  private onDelivered(cp: Checkpoint): void {
    this.deliveredLsn = maxLsn(this.deliveredLsn ?? 0n, cp.lsn);
    if (cp.commitTsMs !== null) this.lastCommitTs = cp.commitTsMs;
    this.stream?.acknowledge();
  }

  private ackedLsn(): Lsn | null {
    const streamed = this.stream?.lastAckedLsn ?? null;
    if (streamed !== null) this.lastAckedLsn = maxLsn(this.lastAckedLsn ?? 0n, streamed);
    return this.lastAckedLsn;
  }

  private onStreamFailure(stream: ReplicationStream, err: Error): void {
    if (this.stopping || stream !== this.stream) return;
    void stream.stop();
    this.stream = null;
    this.scheduleReconnect(err);
  }

  private scheduleReconnect(err: Error): void {
    this.state = 'error';
    this.error = errorText(err);
    this.reconnectDelay = Math.min(Math.max(this.reconnectDelay * 2, this.options.reconnect?.initialMs ?? 500), this.options.reconnect?.maxMs ?? 10_000);
    this.logger.warn({ err: this.error, retryInMs: this.reconnectDelay }, 'replication stream lost; reconnecting');
    this.reconnectTimer = setTimeout(() => void this.reconnect(), this.reconnectDelay);
  }

  private async reconnect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.stopping) return;
    try {
      await this.connectStream();
    } catch (err) {
      if (this.stopping) return;
      if (err instanceof CdcSourceError && !err.retriable) {
        this.error = errorText(err);
        this.logger.error({ err }, 'cannot resume streaming');
        return;
      }
      this.scheduleReconnect(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async onWriterFailure(err: Error): Promise<void> {
    if (this.stopping) return;
    this.state = 'error';
    this.error = `Kafka: ${errorText(err)}`;
    // Nothing after the failed batch may be acknowledged: stop reading; a restart resumes from the last ack.
    this.heartbeat?.stop();
    await this.stream?.stop();
    this.stream = null;
  }

  /** After a clean stop the slot is free: move it to what was delivered, so the next run repeats nothing. */
  private async confirmDeliveredOnSlot(): Promise<void> {
    const pool = this.pool;
    const lsn = this.deliveredLsn;
    if (!pool || lsn === null) return;
    try {
      const slot = await waitForSlotInactive(pool, this.definition.slot, 5_000);
      if (slot?.confirmedFlushLsn !== null && slot?.confirmedFlushLsn !== undefined && lsn > slot.confirmedFlushLsn) {
        await pool.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [this.definition.slot, formatLsn(lsn)]);
        this.lastAckedLsn = lsn;
      }
    } catch (err) {
      this.logger.warn({ err: errorText(err) }, 'could not confirm the delivered position on stop; the next run repeats some changes');
    }
  }

  private async slotLagBytes(): Promise<number | null> {
    if (!this.pool) return null;
    try {
      const { rows } = await this.pool.query<{ lag: string | null }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
        [this.definition.slot],
      );
      return rows[0]?.lag == null ? null : Number(rows[0].lag);
    } catch {
      return null;
    }
  }

  private async release(): Promise<void> {
    this.heartbeat?.stop();
    await this.stream?.stop();
    this.stream = null;
    this.writer?.close();
    this.writer = null;
    if (this.messaging && this.ownsMessaging) await this.messaging.disconnect().catch(() => undefined);
    this.messaging = null;
    await this.pool?.end().catch(() => undefined);
    this.pool = null;
    this.running = false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
