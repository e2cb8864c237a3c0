import { fromMicros, now } from './clock';
import { envelopeSchemaJson, keySchemaJson, withSchema } from './connect-schema';
import { DEBEZIUM_FORMAT_VERSION, topicFor, type Op, type Row, type SnapshotMarker, type TransactionBlock } from './envelope';
import { DEFAULT_EVENT_OPTIONS, type EventOptions } from './options';
import { UNAVAILABLE_VALUE, ValueDecodeError, decoderFor, type ReadPath, type ValueDecoder } from './values';
import type { ColumnInfo } from './columns';

export type { ColumnInfo } from './columns';

/** A captured table as the event builders need it: columns in table order, key columns in primary-key order. */
export interface CapturedTable {
  schema: string;
  table: string;
  topic: string;
  /** The columns events carry: those of a type Debezium leaves out (see values.ts) are not among them. */
  columns: ColumnInfo[];
  /** Empty for a table without a primary key: its events have a null key. */
  keyColumns: string[];
  decoders: Record<ReadPath, ValueDecoder[]>;
  options: EventOptions;
  /** The Connect schemas' JSON text, with `key.converter.schemas.enable` / `value.converter.schemas.enable`. */
  keySchema: string | null;
  valueSchema: string | null;
}

/** One Kafka record: the serialised key and value (null value = tombstone). */
export interface ChangeRecord {
  topic: string;
  key: string | null;
  value: string | null;
}

export function describeTable(
  topicPrefix: string,
  schema: string,
  table: string,
  allColumns: ColumnInfo[],
  keyColumns: string[],
  options: EventOptions = DEFAULT_EVENT_OPTIONS,
): CapturedTable {
  const columns = allColumns.filter((c) => decoderFor(c, options) !== null);
  const decodersFor = (path: ReadPath) => columns.map((c) => decoderFor(c, options, path)!);
  const topic = topicFor(topicPrefix, schema, table);
  return {
    schema,
    table,
    topic,
    columns,
    keyColumns,
    decoders: { stream: decodersFor('stream'), snapshot: decodersFor('snapshot') },
    options,
    keySchema: options.keySchemas && keyColumns.length ? keySchemaJson(topic, columns, keyColumns, options) : null,
    valueSchema: options.valueSchemas ? envelopeSchemaJson(topic, columns, options) : null,
  };
}

function decodeValue(table: CapturedTable, path: ReadPath, i: number, text: string | null | undefined): unknown {
  if (text === null) return null;
  if (text === undefined) return UNAVAILABLE_VALUE;
  try {
    return table.decoders[path][i](text);
  } catch (err) {
    throw new ValueDecodeError(table.columns[i].name, table.columns[i].typeOid, err);
  }
}

/** A row from pgoutput: text values by column name (undefined = unchanged TOAST value that was not sent). */
export function decodeNamedRow(table: CapturedTable, raw: Record<string, string | null | undefined>): Row {
  const row: Row = {};
  for (let i = 0; i < table.columns.length; i++) row[table.columns[i].name] = decodeValue(table, 'stream', i, raw[table.columns[i].name]);
  return row;
}

/** A row from a snapshot query: text values in `table.columns` order. */
export function decodeRowValues(table: CapturedTable, values: (string | null)[]): Row {
  const row: Row = {};
  for (let i = 0; i < table.columns.length; i++) row[table.columns[i].name] = decodeValue(table, 'snapshot', i, values[i]);
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
  /** The commit time (snapshot: when the table's read began), µs since the epoch. */
  tsUs: number;
  snapshot: SnapshotMarker;
  sequence: string | null;
  txId: number | null;
  lsn: number | null;
  origin?: { name: string; lsn: number | null } | null;
}

const nullable = (v: number | null) => (v === null ? 'null' : String(v));

/**
 * The `source` block as JSON text, fields in Debezium 3.6's order. Written by hand because ts_ns is beyond 2^53:
 * JSON.stringify of a number would round it.
 */
export function sourceJson(ctx: SourceContext, table: { schema: string; table: string }, pos: SourcePosition): string {
  const at = fromMicros(pos.tsUs);
  return (
    `{"version":"${DEBEZIUM_FORMAT_VERSION}","connector":"postgresql","name":${JSON.stringify(ctx.name)},"ts_ms":${at.ms},` +
    `"snapshot":"${pos.snapshot}","db":${JSON.stringify(ctx.db)},"sequence":${pos.sequence === null ? 'null' : JSON.stringify(pos.sequence)},` +
    `"ts_us":${at.us},"ts_ns":${at.ns},"schema":${JSON.stringify(table.schema)},"table":${JSON.stringify(table.table)},` +
    `"txId":${nullable(pos.txId)},"lsn":${nullable(pos.lsn)},"xmin":null,` +
    `"origin":${pos.origin ? JSON.stringify(pos.origin.name) : 'null'},"origin_lsn":${pos.origin ? nullable(pos.origin.lsn) : 'null'}}`
  );
}

/** Debezium's `sequence`: `[lastCommitLsn, lsn]` as decimal strings, for consumers that deduplicate. */
export function sequenceOf(lastCommitLsn: bigint | null, lsn: bigint): string {
  return JSON.stringify([lastCommitLsn === null ? null : lastCommitLsn.toString(), lsn.toString()]);
}

export function changeRecord(
  table: CapturedTable,
  key: string | null,
  op: Op,
  before: Row | null,
  after: Row | null,
  source: string,
  transaction: TransactionBlock | null = null,
): ChangeRecord {
  const t = now();
  const payload =
    `{"before":${JSON.stringify(before)},"after":${JSON.stringify(after)},"source":${source},"transaction":${JSON.stringify(transaction)},` +
    `"op":"${op}","ts_ms":${t.ms},"ts_us":${t.us},"ts_ns":${t.ns}}`;
  return { topic: table.topic, key: recordKey(table, key), value: table.valueSchema ? withSchema(table.valueSchema, payload) : payload };
}

/** A null key (a truncate's, a table's without a primary key) stays null with a schema too, as in Kafka's converter. */
const recordKey = (table: CapturedTable, key: string | null) => (key !== null && table.keySchema ? withSchema(table.keySchema, key) : key);

/** A tombstone's value is null with or without schemas. */
export function tombstone(table: CapturedTable, key: string | null): ChangeRecord {
  return { topic: table.topic, key: recordKey(table, key), value: null };
}
