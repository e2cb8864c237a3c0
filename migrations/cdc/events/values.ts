import { parseArrayText, type ArrayText } from './pg-array';
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
 * Column values as Debezium's PostgreSQL connector emits them with its defaults (`time.precision.mode=adaptive`,
 * `binary.handling.mode=bytes`, `interval.handling.mode=numeric`) and `decimal.handling.mode=string`. Snapshot and
 * streaming both hand us Postgres's text output and decode it here by type OID, so one row gives the same JSON
 * whichever way it was read. The table is in ./README.md.
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
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
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

/** Postgres's `infinity` timestamps and dates have no Debezium number: they pass through as text. */
const unlessInfinite =
  (decode: ValueDecoder): ValueDecoder =>
  (v) =>
    v === 'infinity' || v === '-infinity' ? v : decode(v);

/** Debezium's adaptive precision: 0–3 fractional digits → milliseconds, 4–6 (or unspecified) → microseconds. */
const precisionOf = (typeMod: number) => (typeMod < 0 ? 6 : typeMod);

function temporalDecoder(typeOid: number, typeMod: number): ValueDecoder | undefined {
  const millis = precisionOf(typeMod) <= 3;
  switch (typeOid) {
    case PgType.date:
      return unlessInfinite(parseDateDays);
    case PgType.time:
      return millis ? (v) => Math.floor(parseTimeMicros(v) / 1000) : parseTimeMicros;
    case PgType.timestamp:
      return unlessInfinite(millis ? (v) => Math.floor(parseTimestampMicros(v, false) / 1000) : (v) => parseTimestampMicros(v, false));
    case PgType.timestamptz:
      return unlessInfinite((v) => formatUtcTimestamp(parseTimestampMicros(v, true), precisionOf(typeMod)));
    case PgType.timetz:
      return (v) => formatUtcTime(parseTimetzMicros(v));
    case PgType.interval:
      return parseIntervalMicros;
    default:
      return undefined;
  }
}

function scalarDecoder(typeOid: number, typeMod: number): ValueDecoder {
  switch (typeOid) {
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
    case PgType.bytea:
      // Our sessions set bytea_output=hex: `\x0a0b…`.
      return (v) => Buffer.from(v.slice(2), 'hex').toString('base64');
    default:
      // numeric (decimal.handling.mode=string), text types, uuid, json/jsonb (as JSON text), enums, everything else.
      return temporalDecoder(typeOid, typeMod) ?? asText;
  }
}

function mapArray(items: ArrayText, element: ValueDecoder): unknown[] {
  return items.map((item) => (item === null ? null : Array.isArray(item) ? mapArray(item, element) : element(item)));
}

export function decoderFor(typeOid: number, typeMod: number): ValueDecoder {
  const elementOid = ARRAY_ELEMENT[typeOid];
  if (elementOid === undefined) return scalarDecoder(typeOid, typeMod);
  const element = scalarDecoder(elementOid, typeMod);
  return (v) => mapArray(parseArrayText(v), element);
}
