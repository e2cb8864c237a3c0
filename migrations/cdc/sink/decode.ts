import type { ReceivedMessage } from '../../../lib/messaging/types';
import { LEGACY_FORMAT_VERSION, type ChangeEvent, type Op, type Row } from '../events/envelope';
import { UNAVAILABLE_VALUE } from '../events/values';
import { PoisonEventError } from './errors';
import { legacyRow, rowWithSchema, type FieldSchema } from './schema-values';

export type Decoded =
  /** A delete's follow-up (null value) for log compaction, or a logical-decoding message: nothing to apply. */
  | { kind: 'skip'; why: 'tombstone' | 'message' }
  | { kind: 'change'; event: ChangeEvent; key: Row | null; columns: string[] | null };

const OPS = new Set<Op>(['c', 'u', 'd', 'r', 't']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Unwrapped {
  payload: unknown;
  /** The Connect schema, with `schemas.enable=true`. */
  schema: FieldSchema | null;
}

/** `{schema, payload}` from a connector with `schemas.enable=true`, or the bare payload. */
function unwrap(value: unknown): Unwrapped {
  return isObject(value) && 'payload' in value && 'schema' in value
    ? { payload: value.payload, schema: isObject(value.schema) ? (value.schema as unknown as FieldSchema) : null }
    : { payload: value, schema: null };
}

const fieldSchema = (envelope: FieldSchema | null, field: string) => envelope?.fields?.find((f) => f.field === field);

/**
 * Rows in the form the appliers bind (see mapping/values.ts): read with the event's schema when it has one, with
 * legacy string decimals for events our source wrote before Debezium 3.6's format, as they are otherwise. An
 * unchanged TOAST value Debezium could not read is left out, so the row keeps what it has.
 */
/** Without an array of the row's values per event. */
function hasUnavailable(row: Row): boolean {
  for (const column in row) if (row[column] === UNAVAILABLE_VALUE) return true;
  return false;
}

function readRow(row: Row | null, schema: FieldSchema | undefined | null, legacy: boolean): Row | null {
  if (row === null) return null;
  let out = row;
  if (hasUnavailable(row)) out = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== UNAVAILABLE_VALUE));
  if (schema) return rowWithSchema(out, schema);
  return legacy ? legacyRow(out) : out;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PoisonEventError('unparseable', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Validates only what the sink relies on, so a newer connector's extra fields pass. */
export function decodeMessage(message: ReceivedMessage): Decoded {
  if (message.value === null) return { kind: 'skip', why: 'tombstone' };
  const { payload: value, schema } = unwrap(parseJson(message.value.toString('utf8'), 'value'));
  if (value === null) return { kind: 'skip', why: 'tombstone' };
  const keyed = message.key === null ? null : unwrap(parseJson(message.key, 'key'));
  const key = keyed?.payload ?? null;
  if (key !== null && !isObject(key)) throw new PoisonEventError('invalid_envelope', 'key is not a JSON object');
  if (!isObject(value)) throw new PoisonEventError('invalid_envelope', 'value is not a JSON object');
  // A logical-decoding message, or a BEGIN/END of provide.transaction.metadata read from a table topic by mistake.
  if (value.op === 'm' || (value.op === undefined && typeof value.status === 'string')) return { kind: 'skip', why: 'message' };
  const op = value.op as Op;
  if (!OPS.has(op)) throw new PoisonEventError('invalid_envelope', `unknown op ${JSON.stringify(value.op)}`);
  const source = value.source;
  if (!isObject(source) || typeof source.table !== 'string' || typeof source.ts_ms !== 'number') {
    throw new PoisonEventError('invalid_envelope', 'source.table and source.ts_ms are required');
  }
  const before = value.before ?? null;
  const after = value.after ?? null;
  if ((before !== null && !isObject(before)) || (after !== null && !isObject(after))) {
    throw new PoisonEventError('invalid_envelope', 'before and after must be objects or null');
  }
  if ((op === 'c' || op === 'r' || op === 'u') && after === null) throw new PoisonEventError('invalid_envelope', `op ${op} without after`);
  if (op === 'd' && before === null && key === null) throw new PoisonEventError('invalid_envelope', 'delete without before or key');
  const legacy = source.ts_us === undefined && source.version === LEGACY_FORMAT_VERSION;
  const event = {
    ...(value as unknown as ChangeEvent),
    before: readRow(before as Row | null, fieldSchema(schema, 'before'), legacy),
    after: readRow(after as Row | null, fieldSchema(schema, 'after'), legacy),
  };
  // The row's columns as the source sent them, unreadable TOAST values included: the source table's columns then.
  const columns = after === null ? null : Object.keys(after);
  return { kind: 'change', event, key: readRow(key as Row | null, keyed?.schema, legacy), columns };
}
