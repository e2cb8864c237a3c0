import type { ColumnInfo } from './catalog';

/**
 * Debezium's JSON values (defaults, `decimal.handling.mode=string`) back to what node-postgres binds for the target
 * column. Most pass through as text Postgres parses itself: timestamptz arrives as ISO-8601, numeric as a string,
 * uuid as a string. The ones Debezium turns into numbers or base64 are converted here.
 *
 * | Postgres type          | Debezium JSON                  | bound as                          |
 * |------------------------|--------------------------------|-----------------------------------|
 * | timestamp(4-6)         | epoch microseconds (number)    | `YYYY-MM-DDTHH:MM:SS.ffffff`      |
 * | timestamp(0-3)         | epoch milliseconds (number)    | `YYYY-MM-DDTHH:MM:SS.fff`         |
 * | date                   | days since epoch (number)      | `YYYY-MM-DD`                      |
 * | time(4-6) / time(0-3)  | µs / ms since midnight         | `HH:MM:SS.ffffff`                 |
 * | interval               | microseconds (number)          | `N microseconds`                  |
 * | json, jsonb            | JSON text (string)             | the text as is; other values JSON |
 * | bytea                  | base64 (string)                | Buffer                            |
 * | anything else          | number/string/boolean/array    | as is                             |
 *
 * Which unit a number is in follows Debezium's `time.precision.mode=adaptive` and the target column's precision
 * (the source's and the target's are the same type in a plan's mapping). `infinity` and other strings pass as is.
 */
export function fromDebezium(value: unknown, column: ColumnInfo): unknown {
  if (value === null || value === undefined) return null;
  if (column.isArray) return Array.isArray(value) ? value.map((v) => fromDebezium(v, { ...column, isArray: false })) : value;
  switch (column.type) {
    case 'json':
    case 'jsonb':
      // An array would be bound as a Postgres array literal by node-postgres, so anything but text is serialised.
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'timestamp':
      return typeof value === 'number' ? microsToTimestamp(toMicros(value, column)) : value;
    case 'date':
      return typeof value === 'number' ? new Date(value * 86_400_000).toISOString().slice(0, 10) : value;
    case 'time':
      return typeof value === 'number' ? microsToTimestamp(toMicros(value, column)).slice(11) : value;
    case 'interval':
      return typeof value === 'number' ? `${value} microseconds` : value;
    case 'bytea':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    default:
      return typeof value === 'object' && !Array.isArray(value) ? JSON.stringify(value) : value;
  }
}

/** Debezium's adaptive mode: precision 0-3 arrives in milliseconds, 4-6 (and unspecified) in microseconds. */
function toMicros(value: number, column: ColumnInfo): number {
  return column.precision !== null && column.precision <= 3 ? value * 1000 : value;
}

/** Keeps all six fractional digits, which a JS Date would cut to three. */
function microsToTimestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}`;
}
