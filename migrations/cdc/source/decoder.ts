import type { Logger } from '../../../lib/logger';
import type { Pgoutput } from 'pg-logical-replication';
import {
  changeRecord,
  decodeNamedRow,
  keyOf,
  sequenceOf,
  sourceInfo,
  tombstone,
  type CapturedTable,
  type ChangeRecord,
  type SourceContext,
} from '../events/change-events';
import type { Op, Row } from '../events/envelope';
import type { Checkpoint } from '../transport/change-writer';
import { ReplicationStreamError } from './errors';
import { HEARTBEAT_PREFIX } from './heartbeat';
import { SINK_MARKER_PREFIX } from './loop-guard';
import { lsnToNumber, parseLsn, type Lsn } from './lsn';

export interface RecordOutput {
  write(records: ChangeRecord[], checkpoint?: Checkpoint): void;
}

export interface DecoderOptions {
  ctx: SourceContext;
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
  records: ChangeRecord[];
  skipped: boolean;
  spilled: number;
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
  skippedTransactions = 0;
  lastReceivedLsn: Lsn | null = null;

  constructor(private readonly options: DecoderOptions) {
    this.lastCommitLsn = options.lastCommitLsn;
    this.spillRecords = options.spillRecords ?? 10_000;
  }

  /** Async only when a relation needs a catalog look-up; everything else completes synchronously. */
  async handle(lsnText: string, msg: Pgoutput.Message): Promise<void> {
    const lsn = parseLsn(lsnText);
    this.lastReceivedLsn = lsn;
    switch (msg.tag) {
      case 'relation':
        this.tables.set(msg.relationOid, await this.options.resolveTable(msg));
        return;
      case 'begin':
        this.tx = { xid: msg.xid, commitTsMs: Math.floor(Number(msg.commitTime) / 1000), records: [], skipped: false, spilled: 0 };
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
        // origin and type messages carry nothing we emit.
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
      if (msg.prefix === HEARTBEAT_PREFIX) {
        this.options.output.write([], { lsn, commitTsMs: null });
        // A restart resumes with the slot's confirmed position as its base, which may be this heartbeat's: the next
        // transaction must carry the same sequence base before and after a crash, or the sink cannot see repeats.
        this.lastCommitLsn = lsn;
      }
      return;
    }
    if (msg.prefix !== SINK_MARKER_PREFIX) return;
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

  private record(tx: OpenTransaction, table: CapturedTable, lsn: Lsn, op: Op, key: string | null, before: Row | null, after: Row | null): ChangeRecord {
    const source = sourceInfo(this.options.ctx, table, {
      tsMs: tx.commitTsMs,
      snapshot: 'false',
      sequence: sequenceOf(this.lastCommitLsn, lsn),
      txId: tx.xid,
      lsn: lsnToNumber(lsn),
    });
    return changeRecord(table, key, op, before, after, source);
  }

  private onInsert(lsn: Lsn, msg: Pgoutput.MessageInsert): void {
    const tx = this.openTx('an insert');
    if (tx.skipped) return;
    const table = this.table(msg.relation);
    const after = decodeNamedRow(table, msg.new);
    this.push(tx, this.record(tx, table, lsn, 'c', keyOf(table, after), null, after));
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
      this.push(tx, this.record(tx, table, lsn, 'd', oldKey, before, null), tombstone(table, oldKey), this.record(tx, table, lsn, 'c', newKey, null, after));
      return;
    }
    this.push(tx, this.record(tx, table, lsn, 'u', newKey, before, after));
  }

  private onDelete(lsn: Lsn, msg: Pgoutput.MessageDelete): void {
    const tx = this.openTx('a delete');
    if (tx.skipped) return;
    const table = this.table(msg.relation);
    const before = this.beforeRow(table, msg.old, msg.key);
    const key = before ? keyOf(table, before) : null;
    this.push(tx, this.record(tx, table, lsn, 'd', key, before, null), tombstone(table, key));
  }

  private onTruncate(lsn: Lsn, msg: Pgoutput.MessageTruncate): void {
    const tx = this.openTx('a truncate');
    if (tx.skipped) return;
    for (const relation of msg.relations) {
      const table = this.table(relation);
      this.push(tx, this.record(tx, table, lsn, 't', null, null, null));
    }
  }

  private onCommit(msg: Pgoutput.MessageCommit): void {
    const tx = this.openTx('a commit');
    if (!msg.commitEndLsn) throw new ReplicationStreamError('commit message without an end LSN');
    const end = parseLsn(msg.commitEndLsn);
    if (tx.skipped) this.skippedTransactions++;
    // A skipped transaction still moves the checkpoint: its WAL is done with.
    this.options.output.write(tx.skipped ? [] : tx.records, { lsn: end, commitTsMs: tx.commitTsMs });
    this.lastCommitLsn = end;
    this.tx = null;
  }
}
