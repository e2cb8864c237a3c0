/**
 * Debezium's PostgreSQL change event, exactly as its JSON converter writes it with `schemas.enable=false`.
 * Topic `<prefix>.<schema>.<table>`; key = the primary-key columns; value = this envelope; a delete is followed by
 * a tombstone (same key, null value).
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
  schema: string;
  table: string;
  txId: number | null;
  lsn: number | null;
  xmin: number | null;
}

export interface ChangeEvent {
  before: Row | null;
  after: Row | null;
  source: SourceInfo;
  op: Op;
  /** When the connector processed the change, ms since the epoch. */
  ts_ms: number;
}

/** The version we report in `source.version`: the Debezium release whose format we follow. */
export const DEBEZIUM_FORMAT_VERSION = '3.0.0.Final';

export function topicFor(prefix: string, schema: string, table: string): string {
  return `${prefix}.${schema}.${table}`;
}
