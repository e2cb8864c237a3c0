import type { PoolClient } from 'pg';
import { fromDebezium, quoteIdent } from '../mapping';
import { targetTable, type ApplyContext, type ApplyResult, type Change } from './apply-context';
import { arrayType, bulkDelete, bulkUpsert } from './bulk-sql';
import { localWritesAfter, outcomeOf, settleRun } from './conflicts';
import { PoisonEventError } from './errors';
import { canonicalKey } from './keys';
import { applyReverse, rewriteChildren, sameJson } from './reverse-apply';
import { keyOf, qualified } from './sql';

/**
 * The fast path of `applyReverse` for a run of changes of one service table: parent rows in bulk, then child rows
 * rewritten only for parents whose array changed over the run.
 */
export async function bulkReverse(client: PoolClient, ctx: ApplyContext, serviceTable: string, changes: Change[]): Promise<ApplyResult[]> {
  const m = ctx.mapping.rowsForServiceTable(serviceTable);
  if (!m) throw new PoisonEventError('unknown_table', `the plan maps no monolith table to service table ${serviceTable}`);
  if (changes.some((c) => c.event.op === 't')) {
    const results: ApplyResult[] = [];
    for (const change of changes) results.push(await applyReverse(client, ctx, change));
    return results;
  }
  const target = targetTable(ctx, m.monolithTable);
  const keep = (column: string) => target.columns.has(column);
  const planned = changes.map(({ event, key }) => {
    const source = event.op === 'd' ? { ...(key ?? {}), ...(event.before ?? {}) } : event.after!;
    const rows = ctx.mapping.toMonolithRows(serviceTable, source, keep);
    const targetKey = keyOf(target, rows.row);
    return { event, rows, targetKey, ts: event.source.ts_ms };
  });
  const newer = await localWritesAfter(client, target.name, planned.map((p) => ({ unitKey: p.targetKey, ts: p.ts })));
  const { conflicts, skip } = await settleRun(
    client,
    ctx,
    target,
    planned.map((p) => ({ key: p.targetKey, sourceTs: p.ts, incoming: p.event.op === 'd' ? null : p.rows.row })),
    newer,
  );

  // Per row: the last winning change, and the first one (whose `before` tells whether the run changed the array).
  const last = new Map<string, (typeof planned)[number]>();
  const first = new Map<string, (typeof planned)[number]>();
  planned.forEach((p, i) => {
    if (skip[i]) return;
    const k = canonicalKey(p.targetKey);
    if (!first.has(k)) first.set(k, p);
    last.delete(k);
    last.set(k, p);
  });
  const finals = [...last.values()];
  const deletes = finals.filter((p) => p.event.op === 'd');
  const upserts = finals.filter((p) => p.event.op !== 'd');

  if (deletes.length) {
    const pk = target.primaryKey[0];
    for (const embed of ctx.mapping.embedsInto(serviceTable)) {
      const child = targetTable(ctx, embed.monolithTable);
      const column = child.columns.get(embed.parentKey)!;
      // Explicitly: with session_replication_role = replica, ON DELETE CASCADE (a trigger) does not fire.
      await client.query(`DELETE FROM ${qualified(child)} WHERE ${quoteIdent(embed.parentKey)} = ANY($1::${arrayType(child, embed.parentKey)})`, [
        deletes.map((p) => fromDebezium(p.targetKey[pk], column)),
      ]);
    }
    await bulkDelete(client, target, deletes.map((p) => p.targetKey));
  }
  await bulkUpsert(client, target, upserts.map((p) => p.rows.row));
  for (const p of upserts) {
    const before = first.get(canonicalKey(p.targetKey))!.event.before;
    for (const { mapping, rows } of p.rows.children) {
      if (before && mapping.column in before && sameJson(before[mapping.column], p.event.after![mapping.column])) continue;
      await rewriteChildren(client, targetTable(ctx, mapping.monolithTable), mapping, p.targetKey[target.primaryKey[0]], rows);
    }
  }
  return conflicts.map((c) => outcomeOf(ctx, c));
}
