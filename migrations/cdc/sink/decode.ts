import type { ReceivedMessage } from '../../../lib/messaging/types';
import type { ChangeEvent, Op, Row } from '../events/envelope';
import { PoisonEventError } from './errors';

export type Decoded =
  /** A delete's follow-up (null value) for log compaction, or a logical-decoding message: nothing to apply. */
  | { kind: 'skip'; why: 'tombstone' | 'message' }
  | { kind: 'change'; event: ChangeEvent; key: Row | null };

const OPS = new Set<Op>(['c', 'u', 'd', 'r', 't']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{schema, payload}` from a connector with `schemas.enable=true`, or the bare payload. */
function unwrap(value: unknown): unknown {
  return isObject(value) && 'payload' in value && 'schema' in value ? value.payload : value;
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
  const value = unwrap(parseJson(message.value.toString('utf8'), 'value'));
  if (value === null) return { kind: 'skip', why: 'tombstone' };
  const key = message.key === null ? null : unwrap(parseJson(message.key, 'key'));
  if (key !== null && !isObject(key)) throw new PoisonEventError('invalid_envelope', 'key is not a JSON object');
  if (!isObject(value)) throw new PoisonEventError('invalid_envelope', 'value is not a JSON object');
  if (value.op === 'm') return { kind: 'skip', why: 'message' };
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
  return { kind: 'change', event: value as unknown as ChangeEvent, key };
}
