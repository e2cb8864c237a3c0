import type { Logger } from '../../../lib/logger';
import type { Pgoutput } from 'pg-logical-replication';
import {
  changeRecord,
  decodeNamedRow,
  keyOf,
  sequenceOf,
  sourceJson,
  tombstone,
  type CapturedTable,
  type ChangeRecord,
  type SourceContext,
  type SourcePosition,
} from '../events/change-events';
import { now } from '../events/clock';
import type { Op, Row, TransactionBlock } from '../events/envelope';
import type { EventOptions } from '../events/options';
import { MessageEvents, prefixMatcher } from '../events/message-events';
import { MESSAGE_DATA_COLLECTION, TransactionMetadata } from '../events/transaction-events';
import type { Checkpoint } from '../transport/change-writer';
import { ReplicationStreamError } from '../pg/errors';
import { isHeartbeatPrefix } from '../pg/heartbeat';
import { SINK_MARKER_PREFIX } from '../pg/loop-guard';
import { lsnToNumber, parseLsn, type Lsn } from '../pg/lsn';

export interface RecordOutput {
  write(records: ChangeRecord[], checkpoint?: Checkpoint): void;
}

export interface DecoderOptions {
  ctx: SourceContext;
  /** skipped.operations, tombstones.on.delete, provide.transaction.metadata, message.prefix.include.list, …. */
  options: EventOptions;
  /** Builds the table description for a relation message (a catalog look-up, cached by the caller). */
  resolveTable: (relation: Pgoutput.MessageRelation) => Promise<CapturedTable>;
  output: RecordOutput;
  /** Sink pipelines whose marked transactions are dropped (see loop-guard.ts). */
  ignoreSinks: ReadonlySet<string>;
  logger: Logger;
  /** End LSN of the last transaction before this stream: Debezium's `lastCommitLsn` in `sequence`. */
  lastCommitLsn: Lsn | null;
  /** A transaction larger than this is handed to the writer in parts (still acknowledged only at its commit). */
  spillRecords?: number;
}

interface OpenTransaction {
  xid: number;
  commitTsMs: number;
  commitTsUs: number;
  records: ChangeRecord[];
  skipped: boolean;
  spilled: number;
  /** Set by pgoutput's origin message: the change was replayed under a replication origin. */
  origin: { name: string; lsn: number | null } | null;
  metadata: TransactionMetadata | null;
}

const decodeText = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/**
 * Turns pgoutput messages into Debezium records. A transaction's records are held until its commit (or handed over
 * in parts when huge) and the commit's end LSN becomes the checkpoint acknowledged once they are all in Kafka.
 */
export class TransactionDecoder {
  private readonly tables = new Map<number, CapturedTable>();
  private tx: OpenTransaction | null = null;
  private lastCommitLsn: Lsn | null;
  private readonly spillRecords: number;
  private readonly messages: MessageEvents;
  private readonly emitsMessage: (prefix: string) => boolean;
  /** The last commit's time, µs: a non-transactional message has none of its own (Debezium uses this one too). */
  private lastCommitTsUs: number | null = null;
  skippedTransactions = 0;
  lastReceivedLsn: Lsn | null = null;

  constructor(private readonly options: DecoderOptions) {
    this.lastCommitLsn = options.lastCommitLsn;
    this.spillRecords = options.spillRecords ?? 10_000;
    this.messages = new MessageEvents(options.ctx, options.options);
    const included = prefixMatcher(options.options.messagePrefixes);
    // The toolkit's own messages (heartbeat, loop-guard mark) are never events.
    this.emitsMessage = (prefix) => !isHeartbeatPrefix(prefix) && prefix !== SINK_MARKER_PREFIX && included(prefix);
  }

  /** Async only when a relation needs a catalog look-up; everything else completes synchronously. */
  async handle(lsnText: string, msg: Pgoutput.Message): Promise<void> {
    const lsn = parseLsn(lsnText);
    this.lastReceivedLsn = lsn;
    switch (msg.tag) {
      case 'relation':
        this.tables.set(msg.relationOid, await this.options.resolveTable(msg));
        return;
      case 'begin': {
        // pgoutput's commit time is µs since the Unix epoch.
        const commitTsUs = Number(msg.commitTime);
        const commitTsMs = Math.floor(commitTsUs / 1000);
        const { transactionMetadata, keySchemas, valueSchemas } = this.options.options;
        const metadata = transactionMetadata ? new TransactionMetadata(this.options.ctx.name, msg.xid, commitTsMs, { key: keySchemas, value: valueSchemas }) : null;
        this.tx = { xid: msg.xid, commitTsMs, commitTsUs, records: [], skipped: false, spilled: 0, origin: null, metadata };
        return;
      }
      case 'origin':
        if (this.tx) this.tx.origin = { name: msg.originName, lsn: msg.originLsn ? lsnToNumber(parseLsn(msg.originLsn)) : null };
        return;
      case 'message':
        this.onMessage(lsn, msg);
        return;
      case 'insert':
        this.onInsert(lsn, msg);
        return;
      case 'update':
        this.onUpdate(lsn, msg);
        return;
      case 'delete':
        this.onDelete(lsn, msg);
        return;
      case 'truncate':
        this.onTruncate(lsn, msg);
        return;
      case 'commit':
        this.onCommit(msg);
        return;
      default:
        // type messages carry nothing we emit.
        return;
    }
  }

  private openTx(what: string): OpenTransaction {
    if (!this.tx) throw new ReplicationStreamError(`pgoutput sent ${what} outside a transaction`);
    return this.tx;
  }

  private table(relation: Pgoutput.MessageRelation): CapturedTable {
    const t = this.tables.get(relation.relationOid);
    if (!t) throw new ReplicationStreamError(`change for relation ${relation.schema}.${relation.name} before its relation message`);
    return t;
  }

  private onMessage(lsn: Lsn, msg: Pgoutput.MessageMessage): void {
    if (!msg.transactional) {
      // Between transactions: everything received before it is already handed to the writer.
      const emitted = this.emitsMessage(msg.prefix);
      if (isHeartbeatPrefix(msg.prefix) || emitted) {
        // A restart resumes with the slot's confirmed position as its base, which may be this message's: the next
        // transaction must carry the same sequence base before and after a crash, or the sink cannot see repeats.
        // Debezium's sequence for such a message is [its lsn, its lsn] as well.
        this.lastCommitLsn = lsn;
        const records = emitted ? [this.messageRecord(lsn, msg, null)] : [];
        this.options.output.write(records, { lsn, commitTsMs: null });
      }
      return;
    }
    if (msg.prefix !== SINK_MARKER_PREFIX) {
      const tx = this.tx;
      if (tx && !tx.skipped && this.emitsMessage(msg.prefix)) this.push(tx, ...this.withBegin(tx, lsn, (block) => this.messageRecord(lsn, msg, tx, block)));
      return;
    }
    const tx = this.openTx('a transactional message');
    const sink = decodeText(msg.content);
    if (!this.options.ignoreSinks.has(sink) || tx.skipped) return;
    if (tx.spilled) {
      this.options.logger.error(
        { sink, xid: tx.xid, alreadyWritten: tx.spilled },
        'loop-guard mark came after changes already sent; markSinkTransaction must run before the first write',
      );
    }
    tx.skipped = true;
    tx.records = [];
  }

  private push(tx: OpenTransaction, ...records: ChangeRecord[]): void {
    if (tx.skipped) return;
    tx.records.push(...records);
    if (tx.records.length >= this.spillRecords) {
      this.options.output.write(tx.records);
      tx.spilled += tx.records.length;
      tx.records = [];
    }
  }

  private position(tx: OpenTransaction | null, lsn: Lsn): SourcePosition {
    return {
      tsUs: tx?.commitTsUs ?? this.lastCommitTsUs ?? now().us,
      snapshot: 'false',
      sequence: sequenceOf(this.lastCommitLsn, lsn),
      txId: tx?.xid ?? null,
      lsn: lsnToNumber(lsn),
      origin: tx?.origin ?? null,
    };
  }

  /** A `<prefix>.message` event; `block` its place in the transaction with transaction metadata on. */
  private messageRecord(lsn: Lsn, msg: Pgoutput.MessageMessage, tx: OpenTransaction | null, block: TransactionBlock | null = null): ChangeRecord {
    return this.messages.record(msg.prefix, msg.content, this.position(tx, lsn), block);
  }

  /** An event built with its transaction block, preceded by the transaction's BEGIN when it is the first. */
  private withBegin(tx: OpenTransaction, lsn: Lsn, build: (block: TransactionBlock | null) => ChangeRecord, dataCollection = MESSAGE_DATA_COLLECTION): ChangeRecord[] {
    const metadata = tx.metadata;
    if (!metadata) return [build(null)];
    const position = lsnToNumber(lsn);
    const begin = metadata.started ? [] : [metadata.begin(position)];
    return [...begin, build(metadata.next(dataCollection, position))];
  }

  /** The change event, preceded by the transaction's BEGIN when it is the first with metadata on. */
  private records(tx: OpenTransaction, table: CapturedTable, lsn: Lsn, op: Op, key: string | null, before: Row | null, after: Row | null): ChangeRecord[] {
    const source = sourceJson(this.options.ctx, table, this.position(tx, lsn));
    return this.withBegin(tx, lsn, (block) => changeRecord(table, key, op, before, after, source, block), `${table.schema}.${table.table}`);
  }

  private skips(op: Op): boolean {
    return this.options.options.skipped.includes(op);
  }

  /** A delete and, with tombstones.on.delete, its tombstone. */
  private deletion(tx: OpenTransaction, table: CapturedTable, lsn: Lsn, key: string | null, before: Row | null): ChangeRecord[] {
    if (this.skips('d')) return [];
    const deleted = this.records(tx, table, lsn, 'd', key, before, null);
    return this.options.options.tombstones ? [...deleted, tombstone(table, key)] : deleted;
  }

  private onInsert(lsn: Lsn, msg: Pgoutput.MessageInsert): void {
    const tx = this.openTx('an insert');
    if (tx.skipped || this.skips('c')) return;
    const table = this.table(msg.relation);
    const after = decodeNamedRow(table, msg.new);
    this.push(tx, ...this.records(tx, table, lsn, 'c', keyOf(table, after), null, after));
  }

  /** With REPLICA IDENTITY FULL `old` is the whole row; without it we may only have the key columns. */
  private beforeRow(table: CapturedTable, old: Record<string, string | null> | null, key: Record<string, string | null> | null): Row | null {
    if (old) return decodeNamedRow(table, old);
    if (!key) return null;
    const partial: Record<string, string | null> = {};
    for (const c of table.columns) partial[c.name] = key[c.name] ?? null;
    return decodeNamedRow(table, partial);
  }

  private onUpdate(lsn: Lsn, msg: Pgoutput.MessageUpdate): void {
    const tx = this.openTx('an update');
    if (tx.skipped) return;
    const table = this.table(msg.relation);
    const before = this.beforeRow(table, msg.old, msg.key);
    const after = decodeNamedRow(table, msg.new);
    const newKey = keyOf(table, after);
    const oldKey = before ? keyOf(table, before) : newKey;
    if (oldKey !== newKey) {
      // Debezium's primary-key change: the old key is deleted (and tombstoned), the new key created.
      // skipped.operations applies to each half, as in Debezium.
      this.push(tx, ...this.deletion(tx, table, lsn, oldKey, before), ...(this.skips('c') ? [] : this.records(tx, table, lsn, 'c', newKey, null, after)));
      return;
    }
    if (!this.skips('u')) this.push(tx, ...this.records(tx, table, lsn, 'u', newKey, before, after));
  }

  private onDelete(lsn: Lsn, msg: Pgoutput.MessageDelete): void {
    const tx = this.openTx('a delete');
    if (tx.skipped) return;
    const table = this.table(msg.relation);
    const before = this.beforeRow(table, msg.old, msg.key);
    const key = before ? keyOf(table, before) : null;
    this.push(tx, ...this.deletion(tx, table, lsn, key, before));
  }

  private onTruncate(lsn: Lsn, msg: Pgoutput.MessageTruncate): void {
    const tx = this.openTx('a truncate');
    if (tx.skipped || this.skips('t')) return;
    for (const relation of msg.relations) {
      const table = this.table(relation);
      this.push(tx, ...this.records(tx, table, lsn, 't', null, null, null));
    }
  }

  private onCommit(msg: Pgoutput.MessageCommit): void {
    const tx = this.openTx('a commit');
    if (!msg.commitEndLsn) throw new ReplicationStreamError('commit message without an end LSN');
    const end = parseLsn(msg.commitEndLsn);
    if (tx.skipped) this.skippedTransactions++;
    const records = tx.skipped ? [] : tx.records;
    if (!tx.skipped && tx.metadata?.started) records.push(tx.metadata.end(lsnToNumber(end)));
    // A skipped transaction still moves the checkpoint: its WAL is done with.
    this.options.output.write(records, { lsn: end, commitTsMs: tx.commitTsMs });
    this.lastCommitLsn = end;
    this.lastCommitTsUs = tx.commitTsUs;
    this.tx = null;
  }
}
