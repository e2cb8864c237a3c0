import type { ChangeEvent } from '../events/envelope';

/**
 * Where a change sits in its source database's commit order, from Debezium's `source.sequence`
 * (`[lastCommitLsn, lsn]`). `lastCommitLsn` (end of the previous transaction) grows with every commit and `lsn` orders
 * the changes inside one transaction; a snapshot read (`[null, consistentPoint]`) comes before everything committed
 * after its consistent point. Commit *timestamps* cannot order these: a snapshot row is stamped when it was read,
 * later than changes that were committed after the snapshot began and that must win over it.
 *
 * Encoded as one number (base, kind, lsn) → base·2^65 + kind·2^64 + lsn; null when the event has no usable sequence
 * (it is then never taken for a repeat).
 *
 * Two streamed changes of one table share a sequence only in a primary-key change (Debezium's delete + create from
 * one UPDATE): the create counts one past its delete, so each has a position of its own and the sink can tell the
 * create from a re-sent copy of the delete. No other change can sit at lsn + 1: WAL records are far larger than a
 * byte.
 */
/** The form both Debezium and our source write: no JSON.parse (an array and two strings) per event. */
const COMPACT_SEQUENCE = /^\[(?:"(\d+)"|null),"(\d+)"\]$/;

export function eventPosition(event: ChangeEvent): bigint | null {
  const sequence = event.source.sequence;
  if (!sequence) return null;
  const compact = COMPACT_SEQUENCE.exec(sequence);
  if (compact) return positionOf(compact[1] ?? null, compact[2], event.op);
  let parsed: unknown;
  try {
    parsed = JSON.parse(sequence);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== 'string' || !/^\d+$/.test(parsed[1])) return null;
  if (parsed[0] !== null && (typeof parsed[0] !== 'string' || !/^\d+$/.test(parsed[0]))) return null;
  return positionOf(parsed[0] as string | null, parsed[1], event.op);
}

function positionOf(base: string | null, lsnDigits: string, op: ChangeEvent['op']): bigint {
  const lsn = BigInt(lsnDigits);
  if (base === null) return lsn << 65n;
  const streamed = (BigInt(base) << 65n) | (1n << 64n) | lsn;
  return op === 'c' ? streamed + 1n : streamed;
}
