import type { PoolClient } from 'pg';
import type { Side } from '../../../control/contracts';
import type { ConflictPolicy } from '../../../control/plan';
import type { Row } from '../events/envelope';
import { quoteIdent, type TableInfo } from '../mapping';
import type { ApplyContext, ApplyResult, Conflict } from './apply-context';
import { canonicalKey } from './keys';
import { bindRow, qualified, run } from './sql';

/**
 * A conflict is found when the target's own application wrote the same row (its conflict unit) after the change was
 * committed at the source. The target's writes are stamped by the local-write trigger in `strangler_cdc.row_versions`;
 * equal times go to the change. The table's policy in the plan then says whose version stays.
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

/** The side a pipeline carries changes from. */
export const incomingSide = (ctx: Pick<ApplyContext, 'direction'>): Side => (ctx.direction === 'forward' ? 'monolith' : 'service');

/** Whose version stays. A conflict exists only when the target wrote last, so `lastWriterWins` keeps the target's. */
export function chooseSide(policy: ConflictPolicy, incoming: Side, owner: Side): Side {
  switch (policy) {
    case 'lastWriterWins':
      return incoming === 'monolith' ? 'service' : 'monolith';
    case 'monolithWins':
      return 'monolith';
    case 'serviceWins':
      return 'service';
    case 'stageOwnerWins':
      return owner;
  }
}

/** The policy of a conflict unit's table: the plan's entry of the monolith table whose rows it holds. */
function policyOf(ctx: ApplyContext, unitTable: string): ConflictPolicy {
  const rows = ctx.direction === 'forward' ? ctx.mapping.rowsForServiceTable(unitTable) : ctx.mapping.forMonolithTable(unitTable);
  return rows?.kind === 'rows' ? rows.conflict : 'lastWriterWins';
}

/**
 * Settles a conflict on `unit`'s row `key`, reading the target's version before the change may overwrite it. The
 * caller applies the change only when `chosen` is the change's side; either way the conflict is recorded.
 */
export async function settle(client: PoolClient, ctx: ApplyContext, unit: TableInfo, key: Row, found: { currentTs: number; sourceTs: number; incoming: Row | null }): Promise<Conflict> {
  const { columns, values } = bindRow(unit, key);
  const where = columns.map((c, i) => `t.${quoteIdent(c)} = $${i + 1}`).join(' AND ');
  const { rows } = await run<{ row: Row }>(client, `SELECT to_jsonb(t) AS row FROM ${qualified(unit)} t WHERE ${where}`, values);
  const policy = policyOf(ctx, unit.name);
  return { table: unit.name, key, ...found, policy, chosen: chooseSide(policy, incomingSide(ctx), ctx.stageOwner()), local: rows[0]?.row ?? null };
}

/** Written in the transaction that applies (or skips) the change, so the record and the outcome agree. */
export async function recordConflicts(client: PoolClient, pipeline: string, direction: 'forward' | 'reverse', conflicts: Conflict[]): Promise<void> {
  if (!conflicts.length) return;
  const incoming: Side = direction === 'forward' ? 'monolith' : 'service';
  await run(
    client,
    `INSERT INTO strangler_cdc.conflicts (pipeline, tbl, key, policy, chosen, incoming_side, incoming, source_ts, local, local_ts)
     SELECT $1, c.tbl, c.key, c.policy, c.chosen, $2, c.incoming, c.source_ts, c.local, c.local_ts
     FROM jsonb_to_recordset($3::jsonb) AS c(tbl text, key jsonb, policy text, chosen text, incoming jsonb, source_ts bigint, local jsonb, local_ts bigint)`,
    [
      pipeline,
      incoming,
      JSON.stringify(
        conflicts.map((c) => ({ tbl: c.table, key: c.key, policy: c.policy, chosen: c.chosen, incoming: c.incoming, source_ts: c.sourceTs, local: c.local, local_ts: c.currentTs })),
      ),
    ],
  );
}

/** For a run of changes and the target's later writes found for them (`stamps`, null for none): each one settled. */
export async function settleRun(
  client: PoolClient,
  ctx: ApplyContext,
  unit: TableInfo,
  found: { key: Row; sourceTs: number; incoming: Row | null }[],
  stamps: (number | null)[],
): Promise<{ conflicts: (Conflict | null)[]; skip: boolean[] }> {
  const conflicts: (Conflict | null)[] = [];
  // One by one: a conflict needs the target's row, and conflicts are rare next to the changes of a run.
  for (let i = 0; i < found.length; i++) {
    const stamp = stamps[i];
    conflicts.push(stamp === null ? null : await settle(client, ctx, unit, found[i].key, { ...found[i], currentTs: stamp }));
  }
  const incoming = incomingSide(ctx);
  return { conflicts, skip: conflicts.map((c) => c !== null && c.chosen !== incoming) };
}

/** What applying a change came to, given the conflict it met (if any). */
export function outcomeOf(ctx: ApplyContext, conflict: Conflict | null | undefined): ApplyResult {
  if (!conflict) return { status: 'applied' };
  return conflict.chosen === incomingSide(ctx) ? { status: 'applied', conflict } : { status: 'conflict', conflict };
}
