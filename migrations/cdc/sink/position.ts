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
export function eventPosition(event: ChangeEvent): bigint | null {
  const sequence = event.source.sequence;
  if (!sequence) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(sequence);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== 'string' || !/^\d+$/.test(parsed[1])) return null;
  const lsn = BigInt(parsed[1]);
  if (parsed[0] === null) return lsn << 65n;
  if (typeof parsed[0] !== 'string' || !/^\d+$/.test(parsed[0])) return null;
  const streamed = (BigInt(parsed[0]) << 65n) | (1n << 64n) | lsn;
  return event.op === 'c' ? streamed + 1n : streamed;
}
