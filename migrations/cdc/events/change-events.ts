import { DEBEZIUM_FORMAT_VERSION, topicFor, type ChangeEvent, type Op, type Row, type SnapshotMarker, type SourceInfo } from './envelope';
import { UNAVAILABLE_VALUE, ValueDecodeError, decoderFor, type ValueDecoder } from './values';

export interface ColumnInfo {
  name: string;
  /** For a domain, its base type: Debezium maps domains like their base. */
  typeOid: number;
  typeMod: number;
}

/** A captured table as the event builders need it: columns in table order, key columns in primary-key order. */
export interface CapturedTable {
  schema: string;
  table: string;
  topic: string;
  columns: ColumnInfo[];
  /** Empty for a table without a primary key: its events have a null key. */
  keyColumns: string[];
  decoders: ValueDecoder[];
}

/** One Kafka record: the serialised key and value (null value = tombstone). */
export interface ChangeRecord {
  topic: string;
  key: string | null;
  value: string | null;
}

export function describeTable(topicPrefix: string, schema: string, table: string, columns: ColumnInfo[], keyColumns: string[]): CapturedTable {
  return {
    schema,
    table,
    topic: topicFor(topicPrefix, schema, table),
    columns,
    keyColumns,
    decoders: columns.map((c) => decoderFor(c.typeOid, c.typeMod)),
  };
}

function decodeValue(table: CapturedTable, i: number, text: string | null | undefined): unknown {
  if (text === null) return null;
  if (text === undefined) return UNAVAILABLE_VALUE;
  try {
    return table.decoders[i](text);
  } catch (err) {
    throw new ValueDecodeError(table.columns[i].name, table.columns[i].typeOid, err);
  }
}

/** A row from pgoutput: text values by column name (undefined = unchanged TOAST value that was not sent). */
export function decodeNamedRow(table: CapturedTable, raw: Record<string, string | null | undefined>): Row {
  const row: Row = {};
  for (let i = 0; i < table.columns.length; i++) row[table.columns[i].name] = decodeValue(table, i, raw[table.columns[i].name]);
  return row;
}

/** A row from a snapshot query: text values in `table.columns` order. */
export function decodeRowValues(table: CapturedTable, values: (string | null)[]): Row {
  const row: Row = {};
  for (let i = 0; i < table.columns.length; i++) row[table.columns[i].name] = decodeValue(table, i, values[i]);
  return row;
}

/** The record key: JSON of the primary-key columns in key order, e.g. `{"id":1}`. */
export function keyOf(table: CapturedTable, row: Row): string | null {
  if (!table.keyColumns.length) return null;
  const key: Row = {};
  for (const c of table.keyColumns) key[c] = row[c];
  return JSON.stringify(key);
}

export interface SourceContext {
  /** The pipeline's topic prefix. */
  name: string;
  db: string;
}

export interface SourcePosition {
  tsMs: number;
  snapshot: SnapshotMarker;
  sequence: string | null;
  txId: number | null;
  lsn: number | null;
}

/** Field order is Debezium's, so the JSON text matches a real connector's byte for byte (modulo values). */
export function sourceInfo(ctx: SourceContext, table: CapturedTable, pos: SourcePosition): SourceInfo {
  return {
    version: DEBEZIUM_FORMAT_VERSION,
    connector: 'postgresql',
    name: ctx.name,
    ts_ms: pos.tsMs,
    snapshot: pos.snapshot,
    db: ctx.db,
    sequence: pos.sequence,
    schema: table.schema,
    table: table.table,
    txId: pos.txId,
    lsn: pos.lsn,
    xmin: null,
  };
}

/** Debezium's `sequence`: `[lastCommitLsn, lsn]` as decimal strings, for consumers that deduplicate. */
export function sequenceOf(lastCommitLsn: bigint | null, lsn: bigint): string {
  return JSON.stringify([lastCommitLsn === null ? null : lastCommitLsn.toString(), lsn.toString()]);
}

export function changeRecord(table: CapturedTable, key: string | null, op: Op, before: Row | null, after: Row | null, source: SourceInfo): ChangeRecord {
  const event: ChangeEvent = { before, after, source, op, ts_ms: Date.now() };
  return { topic: table.topic, key, value: JSON.stringify(event) };
}

export function tombstone(table: CapturedTable, key: string | null): ChangeRecord {
  return { topic: table.topic, key, value: null };
}
