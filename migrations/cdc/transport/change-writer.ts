import type { Logger } from '../../../lib/logger';
import type { MessagingAdmin, Producer } from '../../../lib/messaging/types';
import type { ChangeRecord } from '../events/change-events';
import type { Lsn } from '../pg/lsn';
import { DeliveryError, WriterClosedError } from './errors';
import { backoffDelay } from '../../../lib/retry';

/** A point in the source's log that is safe to acknowledge once every record written before it is in Kafka. */
export interface Checkpoint {
  lsn: Lsn;
  /** Commit time of the transaction that ends here (null for a heartbeat). */
  commitTsMs: number | null;
}

export interface ChangeWriterOptions {
  producer: Producer;
  admin: MessagingAdmin;
  logger: Logger;
  /**
   * Called in log order, each time everything up to a checkpoint is durably in Kafka (acks=all). Checkpoints delivered
   * together are reported once, as the last of them, with the commit time of the last transaction among them.
   */
  onDelivered?: (checkpoint: Checkpoint) => void;
  /** Called after each delivered batch with its number of records (for the events/s figure). */
  onRecords?: (count: number) => void;
  /** Called once when the writer gives up; the source then stops without acknowledging anything more. */
  onFailure?: (err: Error) => void;
  /** Records per produce round (one `send` per topic). */
  maxBatchRecords?: number;
  /** Above this backlog `whenWritable` waits: the replication stream is paused meanwhile. */
  maxPendingRecords?: number;
  /**
   * The same limit in bytes of keys and values (default 16 MB), whichever is reached first. What the process holds
   * while Kafka is slower than decoding: records are ≈ 600 bytes for a narrow table and many KB for a wide one, and
   * 100,000 records held as JS strings made a worker streaming one big transaction peak above 1 GB.
   */
  maxPendingBytes?: number;
  /**
   * Upper bound of one produce request's payload per topic. Kafka refuses a record batch over the broker's
   * `message.max.bytes` (1 MB by default), so a topic's share of a batch goes out in several sends, in order.
   */
  maxRequestBytes?: number;
  retry?: { initialMs?: number; maxMs?: number; nonRetriableAttempts?: number };
  /** A batch unacknowledged this long counts as not delivering (`retrying`), before any send has failed. */
  stallMs?: number;
}

interface PendingCheckpoint {
  /** Number of records written before this checkpoint (counted from the writer's start). */
  position: number;
  checkpoint: Checkpoint;
}

/**
 * Produces change records to Kafka in the order they were written, one batch at a time, and reports checkpoints
 * once all records before them are acknowledged by Kafka. Batches never overlap, so each topic (one partition)
 * receives records in source order. A failed send is retried with back-off (Kafka down for a while loses nothing);
 * a retry may duplicate records already written, which at-least-once delivery allows.
 */
export class ChangeWriter {
  private readonly chunks: ChangeRecord[][] = [];
  private headOffset = 0;
  private readonly checkpoints: PendingCheckpoint[] = [];
  private written = 0;
  private delivered = 0;
  private pumping = false;
  private closed = false;
  private failure: Error | null = null;
  private retryingState: { since: number; error: string } | null = null;
  private sendingSince: number | null = null;
  private waiters: { ready: () => boolean; resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly knownTopics = new Set<string>();
  private wakeSleeper: (() => void) | null = null;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly maxPendingBytes: number;
  private pendingBytes = 0;

  constructor(private readonly options: ChangeWriterOptions) {
    this.maxBatch = options.maxBatchRecords ?? 10_000;
    this.maxPending = options.maxPendingRecords ?? 100_000;
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
  }

  /** Records not yet acknowledged by Kafka. */
  get backlog(): number {
    return this.written - this.delivered;
  }

  get lastError(): Error | null {
    return this.failure;
  }

  /**
   * Set while Kafka refuses a batch and the writer retries it, or leaves one unacknowledged for `stallMs` (kafkajs
   * retries a send to a dead broker for many seconds before it fails): the source is then not delivering, however
   * healthy its replication connection is. Cleared by the next delivered batch.
   */
  get retrying(): { since: number; error: string } | null {
    if (this.retryingState) return this.retryingState;
    const since = this.sendingSince;
    const stallMs = this.options.stallMs ?? 5_000;
    if (since !== null && Date.now() - since >= stallMs) return { since, error: `no acknowledgement from Kafka for ${Math.round((Date.now() - since) / 1000)} s` };
    return null;
  }

  write(records: ChangeRecord[], checkpoint?: Checkpoint): void {
    if (this.closed) throw new WriterClosedError();
    if (this.failure) throw this.failure;
    if (records.length) {
      this.chunks.push(records);
      this.written += records.length;
      this.pendingBytes += sizeOf(records);
    }
    if (checkpoint) this.checkpoints.push({ position: this.written, checkpoint });
    this.kick();
  }

  /** Resolves when the backlog is below both limits; rejects if the writer failed or was closed. */
  whenWritable(): Promise<void> {
    return this.waitFor(() => this.backlog < this.maxPending && this.pendingBytes < this.maxPendingBytes);
  }

  /** Resolves when everything written so far is in Kafka and its checkpoints were reported. */
  drain(): Promise<void> {
    const target = this.written;
    return this.waitFor(() => this.delivered >= target && !this.checkpoints.some((c) => c.position <= target));
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.knownTopics.has(t));
    if (!missing.length) return;
    // One partition per topic: a table's changes stay in commit order for every consumer.
    await this.options.admin.ensureTopics(missing, 1);
    for (const t of missing) this.knownTopics.add(t);
  }

  /** Stops after the batch in flight; records still held are dropped (they were never acknowledged to Postgres). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeSleeper?.();
    this.settleWaiters();
  }

  private waitFor(ready: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    if (this.closed) return Promise.reject(new WriterClosedError());
    return new Promise((resolve, reject) => this.waiters.push({ ready, resolve, reject }));
  }

  private settleWaiters(): void {
    const pending: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.failure) w.reject(this.failure);
      else if (w.ready()) w.resolve();
      else if (this.closed) w.reject(new WriterClosedError());
      else pending.push(w);
    }
    this.waiters = pending;
  }

  private kick(): void {
    if (this.pumping || this.closed || this.failure) return;
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (!this.closed && !this.failure && (this.chunks.length || this.checkpoints.length)) this.kick();
    });
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        this.reportCheckpoints();
        if (this.closed || !this.chunks.length) return;
        const batch = this.takeBatch();
        this.sendingSince = Date.now();
        await this.deliver(batch).finally(() => (this.sendingSince = null));
        this.delivered += batch.length;
        this.pendingBytes -= sizeOf(batch);
        this.options.onRecords?.(batch.length);
        this.settleWaiters();
      }
    } catch (err) {
      if (err instanceof WriterClosedError) return;
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ err: this.failure }, 'change writer failed; nothing more is acknowledged');
      this.settleWaiters();
      this.options.onFailure?.(this.failure);
    }
  }

  private reportCheckpoints(): void {
    let last: Checkpoint | null = null;
    let commitTsMs: number | null = null;
    while (this.checkpoints.length && this.checkpoints[0].position <= this.delivered) {
      last = this.checkpoints.shift()!.checkpoint;
      if (last.commitTsMs !== null) commitTsMs = last.commitTsMs;
    }
    // Only the last checkpoint is reported: a heartbeat delivered together with the transaction before it must not
    // hide that transaction's commit time.
    if (last) this.options.onDelivered?.({ lsn: last.lsn, commitTsMs: last.commitTsMs ?? commitTsMs });
    this.settleWaiters();
  }

  private takeBatch(): ChangeRecord[] {
    const batch: ChangeRecord[] = [];
    while (this.chunks.length && batch.length < this.maxBatch) {
      const head = this.chunks[0];
      const take = Math.min(head.length - this.headOffset, this.maxBatch - batch.length);
      for (let i = 0; i < take; i++) batch.push(head[this.headOffset + i]);
      this.headOffset += take;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    return batch;
  }

  /** Sends per topic in parallel; on failure only the topics that failed are sent again. */
  private async deliver(batch: ChangeRecord[]): Promise<void> {
    let groups = new Map<string, ChangeRecord[]>();
    for (const r of batch) {
      const list = groups.get(r.topic);
      if (list) list.push(r);
      else groups.set(r.topic, [r]);
    }
    const retry = this.options.retry ?? {};
    // No jitter: one writer per pipeline, nothing to spread out.
    const backoff = { initialMs: retry.initialMs ?? 200, maxMs: retry.maxMs ?? 5_000, jitter: 0 };
    let nonRetriable = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new WriterClosedError();
      let failed: Error | null = null;
      try {
        await this.ensureTopics([...groups.keys()]);
        const results = await Promise.allSettled([...groups].map(([topic, records]) => this.sendInOrder(topic, records)));
        const next = new Map<string, ChangeRecord[]>();
        [...groups].forEach(([topic, records], i) => {
          const r = results[i];
          if (r.status === 'rejected') {
            next.set(topic, records);
            failed ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
          }
        });
        groups = next;
      } catch (err) {
        failed = err instanceof Error ? err : new Error(String(err));
      }
      if (!failed) {
        this.retryingState = null;
        return;
      }
      this.retryingState = { since: this.retryingState?.since ?? Date.now(), error: failed.message };
      const delay = backoffDelay(attempt, backoff);
      const retriable = (failed as { retriable?: boolean }).retriable !== false;
      if (!retriable && ++nonRetriable >= (retry.nonRetriableAttempts ?? 3)) {
        throw new DeliveryError(`Kafka refused ${batch.length} change record(s): ${failed.message}`, { cause: failed });
      }
      this.options.logger.warn({ err: failed, retryInMs: delay }, 'producing change records failed; retrying');
      await this.sleep(delay);
    }
  }

  /** Sends a topic's records in request-sized slices, one after the other so the topic's order holds. */
  private async sendInOrder(topic: string, records: ChangeRecord[]): Promise<void> {
    const limit = this.options.maxRequestBytes ?? 900_000;
    let slice: ChangeRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      const { key, value } = record;
      const size = (key === null ? 0 : Buffer.byteLength(key)) + (value === null ? 0 : Buffer.byteLength(value)) + 64;
      if (slice.length && bytes + size > limit) {
        await this.options.producer.send(topic, slice);
        slice = [];
        bytes = 0;
      }
      // The record itself (its topic is ignored): no copy per record.
      slice.push(record);
      bytes += size;
    }
    if (slice.length) await this.options.producer.send(topic, slice);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }
}

/**
 * Characters of keys and values: bytes for ASCII, which JSON mostly is (a string's length is known without walking
 * it, unlike its UTF-8 size). Good enough for a memory bound.
 */
function sizeOf(records: ChangeRecord[]): number {
  let n = 0;
  for (const r of records) n += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  return n;
}
