/**
 * Debezium's PostgreSQL change event, exactly as its JSON converter writes it (Debezium 3.6). Topic
 * `<prefix>.<schema>.<table>`; key = the primary-key columns; value = this envelope; a delete is followed by a
 * tombstone (same key, null value) unless `tombstones.on.delete` is off.
 */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** Debezium emits these as strings (old versions used a boolean). */
export type SnapshotMarker = 'true' | 'first' | 'first_in_data_collection' | 'last_in_data_collection' | 'last' | 'false' | 'incremental';

export type Row = Record<string, unknown>;

export interface SourceInfo {
  version: string;
  connector: 'postgresql';
  /** The pipeline's topic prefix (Debezium's `topic.prefix`, formerly `database.server.name`). */
  name: string;
  /** Commit time of the change in the source database, ms since the epoch. */
  ts_ms: number;
  snapshot: SnapshotMarker;
  db: string;
  /** JSON text of `[lastCommitLsn, currentLsn]` as decimal strings. */
  sequence: string | null;
  /** The commit time in µs and ns (absent in events our source wrote before it followed Debezium 3.6). */
  ts_us?: number;
  ts_ns?: number;
  schema: string;
  table: string;
  txId: number | null;
  lsn: number | null;
  xmin: number | null;
  /** The replication origin the change was made under (pgoutput's origin message), and its LSN there. */
  origin?: string | null;
  origin_lsn?: number | null;
}

/** `provide.transaction.metadata=true`: where the event sits in its transaction. */
export interface TransactionBlock {
  /** `<txId>:<lsn>` with this event's LSN, as Debezium 3.6's PostgreSQL connector writes it. */
  id: string;
  total_order: number;
  data_collection_order: number;
}

export interface ChangeEvent {
  before: Row | null;
  after: Row | null;
  source: SourceInfo;
  transaction?: TransactionBlock | null;
  op: Op;
  /** When the connector processed the change, since the epoch. ts_ns is beyond 2^53: read as a number it is rounded. */
  ts_ms: number;
  ts_us?: number;
  ts_ns?: number;
}

/** A BEGIN or END event on `<prefix>.transaction` (key `{"id": …}`). */
export interface TransactionEvent {
  status: 'BEGIN' | 'END';
  id: string;
  event_count: number | null;
  data_collections: { data_collection: string; event_count: number }[] | null;
  ts_ms: number;
}

/**
 * The version we report in `source.version`: the Debezium release whose events ours were compared with, field by
 * field (migrations/cdc/events/__tests__/debezium-parity.test.ts).
 */
export const DEBEZIUM_FORMAT_VERSION = '3.6.1.Final';

/** What our source wrote before it followed 3.6 (string decimals, no ts_us/ts_ns): the sink still applies it. */
export const LEGACY_FORMAT_VERSION = '3.0.0.Final';

export function topicFor(prefix: string, schema: string, table: string): string {
  return `${prefix}.${schema}.${table}`;
}

export const transactionTopicFor = (prefix: string) => `${prefix}.transaction`;
