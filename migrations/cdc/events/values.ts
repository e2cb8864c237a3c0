import { encodeDecimal, encodeMoney } from './numeric';
import type { ValueFormat } from './options';
import { parseArrayText, type ArrayText } from './pg-array';
import { encodeBits, hstoreJson, pointStruct } from './special-types';
import {
  formatUtcTime,
  formatUtcTimestamp,
  parseDateDays,
  parseIntervalMicros,
  parseTimeMicros,
  parseTimestampMicros,
  parseTimetzMicros,
} from './temporal';

/**
 * Column values as Debezium 3.6's PostgreSQL connector writes them (`interval.handling.mode=numeric`,
 * `hstore.handling.mode=json`, `include.unknown.datatypes=false`), in the decimal, time precision and binary
 * handling modes a pipeline chooses. Snapshot and streaming both hand us Postgres's text output and
 * decode it here by type, so one row gives the same JSON whichever way it was read, except where Debezium itself
 * differs between the two (infinite dates). The table is in ./README.md.
 */
export type ValueDecoder = (text: string) => unknown;

/** What Debezium writes for an unchanged TOASTed column it could not read (never with REPLICA IDENTITY FULL). */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

export const PgType = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  point: 600,
  lseg: 601,
  path: 602,
  box: 603,
  polygon: 604,
  line: 628,
  float4: 700,
  float8: 701,
  circle: 718,
  money: 790,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  bit: 1560,
  varbit: 1562,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

const ARRAY_ELEMENT: Record<number, number> = {
  1000: PgType.bool,
  1001: PgType.bytea,
  1002: PgType.char,
  1003: PgType.name,
  1005: PgType.int2,
  1007: PgType.int4,
  1009: PgType.text,
  1014: PgType.bpchar,
  1015: PgType.varchar,
  1016: PgType.int8,
  1021: PgType.float4,
  1022: PgType.float8,
  1028: PgType.oid,
  1115: PgType.timestamp,
  1182: PgType.date,
  1183: PgType.time,
  1185: PgType.timestamptz,
  1187: PgType.interval,
  1231: PgType.numeric,
  1270: PgType.timetz,
  2951: PgType.uuid,
  199: PgType.json,
  3807: PgType.jsonb,
};

/** Types Debezium has no mapping for: with `include.unknown.datatypes=false` their columns are left out of events. */
const UNSUPPORTED = new Set<number>([PgType.line, PgType.lseg, PgType.box, PgType.path, PgType.polygon, PgType.circle]);

/** A column as the decoders need it; `typeName` tells extension types (hstore) apart, their OIDs vary. */
export interface ColumnType {
  /** For a domain, its base type: Debezium maps domains like their base. */
  typeOid: number;
  typeMod: number;
  typeName?: string;
  elementOid?: number | null;
}

/** Snapshot rows come through JDBC in Debezium, streamed ones through its pgoutput decoder: a few values differ. */
export type ReadPath = 'stream' | 'snapshot';

export class ValueDecodeError extends Error {
  constructor(
    readonly column: string,
    readonly typeOid: number,
    cause: unknown,
  ) {
    super(`cannot decode column ${column} (type oid ${typeOid}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ValueDecodeError';
  }
}

const asText: ValueDecoder = (v) => v;
const asInt: ValueDecoder = (v) => Number(v);

/** Jackson (Kafka's JSON converter) quotes the non-finite doubles it cannot write as numbers. */
const asFloat: ValueDecoder = (v) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : v === 'NaN' ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
};

/**
 * Debezium's numbers for Postgres's infinite dates and timestamps. Timestamps carry pgjdbc's DATE_POSITIVE_INFINITY
 * / DATE_NEGATIVE_INFINITY constants in the column's unit; dates differ by read path: streaming writes the epoch
 * days of ±5877611-06-21/22 (both negative), a snapshot what JDBC's infinite java.sql.Date gives in a UTC JVM.
 */
const TIMESTAMP_INFINITY_MICROS = { infinity: 9223372036825200000, '-infinity': -9223372036832400000 };
const DATE_INFINITY_DAYS: Record<ReadPath, { infinity: number; '-infinity': number }> = {
  stream: { infinity: -2147472692, '-infinity': -2147472691 },
  snapshot: { infinity: -622191234, '-infinity': -625821272 },
};

const isInfinite = (v: string): v is 'infinity' | '-infinity' => v === 'infinity' || v === '-infinity';

/** Debezium's adaptive precision: 0–3 fractional digits → milliseconds, 4–6 (or unspecified) → microseconds. */
const precisionOf = (typeMod: number) => (typeMod < 0 ? 6 : typeMod);

/** numeric(p, s)'s typmod packs both: ((p << 16) | s) + 4; -1 when neither was declared. */
const numericScale = (typeMod: number) => (typeMod < 0 ? null : (typeMod - 4) & 0xffff);

/** Whole units of `unit` µs, rounded down like java.time (Instant.toEpochMilli). */
const floorTo = (micros: number, unit: number) => Math.floor(micros / unit);

function temporalDecoder(type: ColumnType, format: ValueFormat, path: ReadPath): ValueDecoder | undefined {
  const millis = format.time === 'connect' || precisionOf(type.typeMod) <= 3;
  const unit = millis ? 1000 : 1;
  switch (type.typeOid) {
    case PgType.date: {
      const infinite = DATE_INFINITY_DAYS[path];
      return (v) => (isInfinite(v) ? infinite[v] : parseDateDays(v));
    }
    case PgType.time: {
      // adaptive_time_microseconds: time columns in µs whatever their precision, the rest as adaptive.
      const timeUnit = format.time === 'adaptive_time_microseconds' ? 1 : unit;
      return (v) => floorTo(parseTimeMicros(v), timeUnit);
    }
    case PgType.timestamp:
      // pgjdbc's constants are milliseconds; Debezium writes them unchanged as microseconds and divides for ms.
      return (v) => (isInfinite(v) ? Math.trunc(TIMESTAMP_INFINITY_MICROS[v] / unit) : floorTo(parseTimestampMicros(v, false), unit));
    case PgType.timestamptz:
      return (v) => (isInfinite(v) ? v : formatUtcTimestamp(parseTimestampMicros(v, true), precisionOf(type.typeMod)));
    case PgType.timetz:
      return (v) => formatUtcTime(parseTimetzMicros(v));
    case PgType.interval:
      return parseIntervalMicros;
    default:
      return undefined;
  }
}

/**
 * `binary.handling.mode`: bytes and base64 both write base64 in JSON (Connect's bytes are base64 there), only their
 * schemas differ; base64-url-safe keeps Java's padding; hex is lower case.
 */
export function encodeBinary(bytes: Buffer, mode: ValueFormat['binary']): string {
  if (mode === 'hex') return bytes.toString('hex');
  if (mode === 'base64-url-safe') return bytes.toString('base64url').padEnd(Math.ceil(bytes.length / 3) * 4, '=');
  return bytes.toString('base64');
}

function binaryDecoder(mode: ValueFormat['binary']): ValueDecoder {
  if (mode === 'hex') return (v) => v.slice(2);
  return (v) => encodeBinary(Buffer.from(v.slice(2), 'hex'), mode);
}

function scalarDecoder(type: ColumnType, format: ValueFormat, path: ReadPath): ValueDecoder {
  switch (type.typeOid) {
    case PgType.bool:
      return (v) => v === 't';
    case PgType.int2:
    case PgType.int4:
    case PgType.oid:
    case PgType.int8: // a JSON number, as Debezium writes int64; beyond 2^53 JavaScript rounds it (see README)
      return asInt;
    case PgType.float4:
    case PgType.float8:
      return asFloat;
    case PgType.numeric: {
      const scale = numericScale(type.typeMod);
      return (v) => encodeDecimal(v, scale, format.decimal);
    }
    case PgType.money:
      return (v) => encodeMoney(v, format.decimal);
    case PgType.bytea:
      // Our sessions set bytea_output=hex: `\x0a0b…`.
      return binaryDecoder(format.binary);
    case PgType.bit:
    case PgType.varbit:
      // bit(1) and varbit(1) are booleans in Debezium; longer ones its little-endian Bits bytes.
      return type.typeMod === 1 ? (v) => v !== '0' : encodeBits;
    case PgType.point:
      return pointStruct;
    default:
      if (type.typeName === 'hstore') return hstoreJson;
      // text types, uuid, json/jsonb (as JSON text), xml, inet, ranges, enums, ltree, citext, tsvector, ….
      return temporalDecoder(type, format, path) ?? asText;
  }
}

function mapArray(items: ArrayText, element: ValueDecoder): unknown[] {
  return items.map((item) => (item === null ? null : Array.isArray(item) ? mapArray(item, element) : element(item)));
}

/** null: a type Debezium leaves out of its events, so its column is not captured either. */
/**
 * The element type an array's values are decoded as: those compared with Debezium have a fixed OID; the elements of
 * any other array (enums, money, bit, point, extension types) are written as Postgres prints them (README).
 */
export function arrayElementOf(type: ColumnType): number | undefined {
  const known = ARRAY_ELEMENT[type.typeOid];
  if (known !== undefined) return known;
  return type.elementOid != null ? PgType.text : undefined;
}

export function decoderFor(type: ColumnType, format: ValueFormat, path: ReadPath = 'stream'): ValueDecoder | null {
  if (UNSUPPORTED.has(type.typeOid)) return null;
  const elementOid = arrayElementOf(type);
  if (elementOid === undefined) return scalarDecoder(type, format, path);
  const element = scalarDecoder({ typeOid: elementOid, typeMod: type.typeMod }, format, path);
  return (v) => mapArray(parseArrayText(v), element);
}
