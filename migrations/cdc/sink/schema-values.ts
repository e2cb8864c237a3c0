import type { Row } from '../events/envelope';
import { decimalText } from '../events/numeric';
import { DECIMAL_TYPES, PgText, dateText, microsToTimestamp, timestampText } from '../mapping';

/**
 * Values of an event that carries its Connect schema (`schemas.enable=true`), turned into Postgres text where the
 * schema says what they are: decimals with the schema's scale, every temporal unit Debezium has. Strings are
 * bound as text into numeric columns (string mode: never base64), whatever the pipeline's own decimal mode.
 */

export interface FieldSchema {
  type: string;
  name?: string;
  field?: string;
  parameters?: Record<string, string>;
  fields?: FieldSchema[];
  items?: FieldSchema;
}

/** µs per unit of each temporal schema name; dates count days. */
const TIMESTAMP_UNITS: Record<string, number> = {
  'org.apache.kafka.connect.data.Timestamp': 1000,
  'io.debezium.time.Timestamp': 1000,
  'io.debezium.time.MicroTimestamp': 1,
  'io.debezium.time.NanoTimestamp': 0.001,
};
const TIME_UNITS: Record<string, number> = {
  'org.apache.kafka.connect.data.Time': 1000,
  'io.debezium.time.Time': 1000,
  'io.debezium.time.MicroTime': 1,
  'io.debezium.time.NanoTime': 0.001,
};
const DATES = new Set(['org.apache.kafka.connect.data.Date', 'io.debezium.time.Date']);

function valueWith(schema: FieldSchema, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const name = schema.name ?? '';
  if (name === 'org.apache.kafka.connect.data.Decimal') return new PgText(String(decimalText(value, Number(schema.parameters?.scale ?? 0))));
  if (name === 'io.debezium.data.VariableScaleDecimal') return new PgText(String(decimalText(value, null)));
  if (typeof value === 'number') {
    if (name in TIMESTAMP_UNITS) return new PgText(timestampText(value, Math.floor(value * TIMESTAMP_UNITS[name])), value);
    if (name in TIME_UNITS) return new PgText(microsToTimestamp(Math.floor(value * TIME_UNITS[name])).slice(11), value);
    if (DATES.has(name)) return new PgText(dateText(value), value);
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) return value.map((v) => valueWith(schema.items!, v));
  if (schema.type === 'string' && typeof value === 'string') return new PgText(value, value, DECIMAL_TYPES);
  return value;
}

/** A row of `before`/`after` read with its struct schema; fields the schema does not describe pass as they are. */
export function rowWithSchema(row: Row, struct: FieldSchema | undefined): Row {
  const fields = new Map((struct?.fields ?? []).map((f) => [f.field, f]));
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    const schema = fields.get(column);
    out[column] = schema ? valueWith(schema, value) : value;
  }
  return out;
}

/**
 * Events our source wrote before it followed Debezium 3.6 (no `ts_us` in `source`) had string decimals: their
 * strings are bound as text into numeric columns even when the pipeline now writes precise (base64) decimals.
 */
export function legacyRow(row: Row): Row {
  const wrap = (value: unknown): unknown =>
    typeof value === 'string' ? new PgText(value, value, DECIMAL_TYPES) : Array.isArray(value) ? value.map(wrap) : value;
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) out[column] = wrap(value);
  return out;
}
