import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import { canonicalKey } from './keys';
import { run } from './sql';

/**
 * Last writer wins between the two sides: a change loses when the target's own application wrote the same row
 * (its conflict unit) after the change was committed at the source. The target's writes are stamped by the
 * local-write trigger in `strangler_cdc.row_versions`; equal times go to the change.
 */
export async function localWriteAfter(client: PoolClient, unitTable: string, unitKey: Row, ts: number): Promise<number | null> {
  const { rows } = await run<{ source_ts: string }>(
    client,
    `SELECT source_ts FROM strangler_cdc.row_versions WHERE origin = 'local' AND tbl = $1 AND key = $2::jsonb AND source_ts > $3`,
    [unitTable, JSON.stringify(unitKey), ts],
  );
  return rows.length ? Number(rows[0].source_ts) : null;
}

/**
 * The same for a run of changes: the newer local write per change, or null. Nothing is read per key while the
 * target's application has never written the table, which is the whole of a snapshot and of the forward stage.
 */
export async function localWritesAfter(client: PoolClient, unitTable: string, inputs: { unitKey: Row; ts: number }[]): Promise<(number | null)[]> {
  const none = inputs.map(() => null);
  if (!inputs.length) return none;
  const any = await run<{ found: boolean }>(
    client,
    `SELECT EXISTS (SELECT 1 FROM strangler_cdc.row_versions WHERE origin = 'local' AND tbl = $1) AS found`,
    [unitTable],
  );
  if (!any.rows[0].found) return none;
  const keys = new Map(inputs.map((i) => [canonicalKey(i.unitKey), i.unitKey]));
  const { rows } = await client.query<{ key: Row; source_ts: string }>(
    `SELECT key, source_ts FROM strangler_cdc.row_versions WHERE origin = 'local' AND tbl = $1 AND key = ANY($2::jsonb[])`,
    [unitTable, [...keys.values()].map((k) => JSON.stringify(k))],
  );
  const stamps = new Map(rows.map((r) => [canonicalKey(r.key), Number(r.source_ts)]));
  return inputs.map((i) => {
    const stamp = stamps.get(canonicalKey(i.unitKey));
    return stamp !== undefined && stamp > i.ts ? stamp : null;
  });
}
