import { decimalText } from '../events/numeric';
import type { ValueFormat } from '../events/options';
import type { ColumnInfo } from './catalog';

/**
 * A value whose Postgres text is already known (read with the help of the event's schema, or a string of an event
 * whose strings are never encoded decimals): bound as that text. With `onlyFor`, only into columns of those types;
 * any other column gets `json`, the value as the event had it, through the usual conversion. JSON.stringify (embedded
 * rows) sees `json` too.
 */
export class PgText {
  constructor(
    readonly text: string,
    readonly json: unknown = text,
    readonly onlyFor?: ReadonlySet<string>,
  ) {}

  toJSON(): unknown {
    return this.json;
  }
}

export const DECIMAL_TYPES: ReadonlySet<string> = new Set(['numeric', 'money']);

/** What our source wrote before it followed Debezium 3.6 (and what a column without a pipeline's format assumes). */
const LEGACY_FORMAT: ValueFormat = { decimal: 'string', time: 'adaptive', binary: 'bytes' };

/**
 * Debezium's JSON values back to what node-postgres binds for the target column. Most pass through as text
 * Postgres parses itself (timestamptz as ISO-8601, uuid, ranges, inet…). The ones Debezium turns into numbers,
 * base64 or structs are converted here, in the decimal and time precision modes of the column's `format`:
 *
 * | Postgres type          | Debezium JSON                                   | bound as                        |
 * |------------------------|-------------------------------------------------|---------------------------------|
 * | numeric, money         | base64 at the column's scale / {scale, value} / number / string | decimal text    |
 * | timestamp              | epoch µs or ms (adaptive by precision; connect: ms) | `YYYY-MM-DDTHH:MM:SS.ffffff` |
 * | date                   | days since epoch (number)                       | `YYYY-MM-DD`                    |
 * | time                   | µs or ms since midnight (adaptive_time_µs: µs)  | `HH:MM:SS.ffffff`               |
 * | interval               | microseconds (number)                           | `N microseconds`                |
 * | json, jsonb            | JSON text (string)                              | the text as is; other values JSON |
 * | bytea                  | base64 (URL-safe too) or hex (string)           | Buffer                          |
 * | bit, varbit            | boolean (length 1) or little-endian base64      | bit string                      |
 * | point                  | {x, y, wkb, srid}                               | `(x,y)`                         |
 * | hstore                 | JSON object text                                | hstore text                     |
 * | anything else          | number/string/boolean/array                     | as is                           |
 *
 * Debezium's numbers for infinite dates and timestamps become `infinity` / `-infinity` again. Which unit a temporal
 * number is in follows the column's precision, as the source's and the target's are the same type in a plan's
 * mapping.
 */
export function fromDebezium(value: unknown, column: ColumnInfo): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof PgText) return !value.onlyFor || value.onlyFor.has(column.type) ? value.text : fromDebezium(value.json, column);
  if (column.isArray) return Array.isArray(value) ? value.map((v) => fromDebezium(v, { ...column, isArray: false })) : value;
  const format = column.format ?? LEGACY_FORMAT;
  switch (column.type) {
    case 'numeric':
    case 'money':
      return decimalText(value, format.decimal === 'precise' ? column.scale : null);
    case 'json':
    case 'jsonb':
      // An array would be bound as a Postgres array literal by node-postgres, so anything but text is serialised.
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'timestamp':
      return typeof value === 'number' ? timestampText(value, toMicros(value, column, format)) : value;
    case 'date':
      return typeof value === 'number' ? dateText(value) : value;
    case 'time':
      return typeof value === 'number' ? microsToTimestamp(format.time === 'adaptive_time_microseconds' ? value : toMicros(value, column, format)).slice(11) : value;
    case 'interval':
      return typeof value === 'number' ? `${value} microseconds` : value;
    case 'bytea':
      // Node's base64 reads the URL-safe alphabet too.
      return typeof value === 'string' ? Buffer.from(value, format.binary === 'hex' ? 'hex' : 'base64') : value;
    case 'bit':
    case 'varbit':
      return bitsText(value, column);
    case 'point':
      return isObject(value) && typeof value.x === 'number' && typeof value.y === 'number' ? `(${value.x},${value.y})` : value;
    case 'hstore':
      return typeof value === 'string' && value.startsWith('{') ? hstoreText(value) : value;
    default:
      return isObject(value) ? JSON.stringify(value) : value;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Debezium's numbers for Postgres's ±infinity: pgjdbc's DATE_POSITIVE/NEGATIVE_INFINITY for timestamps (in µs
 * columns unchanged, in ms columns ÷ 1000), and for dates the streamed (±5877611-06-21/22) and the snapshot values.
 */
const INFINITE_TIMESTAMPS = new Map<number, string>([
  [9223372036825200000, 'infinity'],
  [-9223372036832400000, '-infinity'],
  [9223372036825200, 'infinity'],
  [-9223372036832400, '-infinity'],
]);
const INFINITE_DATES = new Map<number, string>([
  [-2147472692, 'infinity'],
  [-2147472691, '-infinity'],
  [-622191234, 'infinity'],
  [-625821272, '-infinity'],
]);

/** `value` as the event had it (the infinity check is on that), `micros` the same instant in µs. */
export const timestampText = (value: number, micros: number) => INFINITE_TIMESTAMPS.get(value) ?? microsToTimestamp(micros);

export const dateText = (days: number) => INFINITE_DATES.get(days) ?? new Date(days * 86_400_000).toISOString().slice(0, 10);

/** Adaptive: precision 0-3 arrives in milliseconds, 4-6 (and unspecified) in microseconds; connect: always ms. */
function toMicros(value: number, column: ColumnInfo, format: ValueFormat): number {
  return format.time === 'connect' || (column.precision !== null && column.precision <= 3) ? value * 1000 : value;
}

/** Keeps all six fractional digits, which a JS Date would cut to three. */
export function microsToTimestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}`;
}

/** io.debezium.data.Bits (little-endian bytes, base64) → a bit string, padded to bit(n)'s n. */
function bitsText(value: unknown, column: ColumnInfo): unknown {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value !== 'string') return value;
  let n = 0n;
  const bytes = Buffer.from(value, 'base64');
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  const digits = n === 0n ? '' : n.toString(2);
  return column.type === 'bit' && column.length !== null ? digits.padStart(column.length, '0') : digits || '0';
}

/** `{"k":"v","n":null}` → `"k"=>"v", "n"=>NULL`. */
function hstoreText(json: string): string {
  const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const map = JSON.parse(json) as Record<string, string | null>;
  return Object.entries(map)
    .map(([k, v]) => `${quote(k)}=>${v === null ? 'NULL' : quote(String(v))}`)
    .join(', ');
}

