import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import { RowMappingError, fromDebezium, quoteIdent, type EmbedMapping, type RowsMapping } from '../mapping';
import { serviceRowOf, targetTable, type ApplyContext, type ApplyResult, type Change } from './apply-context';
import { arrayType, bulkDelete, bulkUpsert, type ParkedChildren } from './bulk-sql';
import { localWritesAfter, outcomeOf, settleRun } from './conflicts';
import { parentKeyOf, type EmbedTarget } from './embedded';
import { PoisonEventError } from './errors';
import { applyForward } from './forward-apply';
import { canonicalKey } from './keys';
import { keyOf, qualified } from './sql';

/**
 * The fast path of `applyForward` for a run of changes of one monolith table: the same rules, a handful of statements
 * per run instead of several per change. Changes of one row collapse to the last one that wins; the result is what
 * applying them one by one gives. Any error sends the chunk to the one-by-one path, which isolates poison events.
 */
export async function bulkForward(client: PoolClient, ctx: ApplyContext, table: string, changes: Change[]): Promise<ApplyResult[]> {
  const m = ctx.mapping.forMonolithTable(table);
  if (!m) throw new PoisonEventError('unknown_table', `the plan does not map monolith table ${table}`);
  if (changes.some((c) => c.event.op === 't')) {
    const results: ApplyResult[] = [];
    for (const change of changes) results.push(await applyForward(client, ctx, change));
    return results;
  }
  return m.kind === 'rows' ? bulkRows(client, ctx, m, changes) : bulkEmbedded(client, ctx, m, changes);
}

/** Keeps the last entry per key, in the order of those last entries. */
function lastPerKey<T>(entries: { key: Row; value: T }[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const { key, value } of entries) {
    const k = canonicalKey(key);
    out.delete(k);
    out.set(k, value);
  }
  return out;
}

const AGGREGATE = (p: string, c: string, parentKey: string) =>
  `COALESCE((SELECT jsonb_agg(e.element ORDER BY e.sort_value, e.child_key) FROM strangler_cdc.embedded_rows e
     WHERE e.pipeline = ${p} AND e.child_table = ${c} AND e.parent_key = ${parentKey}), '[]'::jsonb)`;

async function bulkRows(client: PoolClient, ctx: ApplyContext, m: RowsMapping, changes: Change[]): Promise<ApplyResult[]> {
  const target = targetTable(ctx, m.serviceTable);
  const planned = changes.map(({ event, key }) => {
    const source = event.op === 'd' ? (event.before ?? key) : event.after;
    if (!source) throw new RowMappingError(m.monolithTable, `op ${event.op} carries no row`);
    const row = serviceRowOf(ctx, m, target, source);
    const targetKey = keyOf(target, event.op === 'd' ? { ...row, ...serviceRowOf(ctx, m, target, key ?? {}) } : row);
    return { op: event.op, row, targetKey, ts: event.source.ts_ms };
  });
  const newer = await localWritesAfter(client, target.name, planned.map((p) => ({ unitKey: p.targetKey, ts: p.ts })));
  const { conflicts, skip } = await settleRun(
    client,
    ctx,
    target,
    planned.map((p) => ({ key: p.targetKey, sourceTs: p.ts, incoming: p.op === 'd' ? null : p.row })),
    newer,
  );
  const final = lastPerKey(planned.filter((_, i) => !skip[i]).map((p) => ({ key: p.targetKey, value: p })));
  const deletes = [...final.values()].filter((p) => p.op === 'd').map((p) => p.targetKey);
  const upserts = [...final.values()].filter((p) => p.op !== 'd').map((p) => p.row);

  const embeds = ctx.mapping.embedsInto(m.serviceTable);
  await bulkDelete(client, target, deletes);
  if (deletes.length) {
    for (const e of embeds) {
      await client.query('DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND parent_key = ANY($3::jsonb[])', [
        ctx.pipeline,
        e.monolithTable,
        deletes.map((k) => JSON.stringify(k)),
      ]);
    }
  }
  const parked: ParkedChildren[] = embeds.map((e) => ({
    column: e.column,
    pipeline: ctx.pipeline,
    childTable: e.monolithTable,
    parentKey: (row) => JSON.stringify(keyOf(target, row)),
  }));
  await bulkUpsert(client, target, upserts, parked);
  return conflicts.map((c) => outcomeOf(ctx, c));
}

interface ChildPlan {
  op: string;
  childKey: Row;
  parentKey: Row | null;
  sortValue: unknown;
  element: Row | null;
  ts: number;
}

async function bulkEmbedded(client: PoolClient, ctx: ApplyContext, m: EmbedMapping, changes: Change[]): Promise<ApplyResult[]> {
  const t: EmbedTarget = { pipeline: ctx.pipeline, embed: m, parent: targetTable(ctx, m.serviceTable) };
  const base = [ctx.pipeline, m.monolithTable];
  for (const c of changes) if (!c.key) throw new RowMappingError(m.monolithTable, 'a change of an embedded row needs its key');

  const { rows: indexed } = await client.query<{ child_key: Row; parent_key: Row }>(
    'SELECT child_key, parent_key FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND child_key = ANY($3::jsonb[])',
    [...base, changes.map((c) => JSON.stringify(c.key))],
  );
  const known = new Map(indexed.map((r) => [canonicalKey(r.child_key), r.parent_key]));
  const running = new Map(known);

  const plans: ChildPlan[] = changes.map(({ event, key }) => {
    const ck = canonicalKey(key!);
    if (event.op === 'd') {
      const parentKey = running.get(ck) ?? (event.before ? parentKeyOf(t, event.before) : null);
      return { op: 'd', childKey: key!, parentKey, sortValue: m.orderBy ? event.before?.[m.orderBy] : null, element: null, ts: event.source.ts_ms };
    }
    const child = event.after!;
    const parentKey = parentKeyOf(t, child);
    if (!parentKey) throw new RowMappingError(m.monolithTable, `no value for ${m.parentKey}, the parent's key`);
    running.set(ck, parentKey);
    return {
      op: event.op,
      childKey: key!,
      parentKey,
      sortValue: m.orderBy ? child[m.orderBy] : null,
      element: ctx.mapping.toElement(m, child),
      ts: event.source.ts_ms,
    };
  });

  const considered = plans.map((p, i) => ({ p, i })).filter(({ p }) => p.parentKey !== null);
  const newer = await localWritesAfter(
    client,
    t.parent.name,
    considered.map(({ p }) => ({ unitKey: p.parentKey!, ts: p.ts })),
  );
  // The unit is the parent row the array lives in; the change's version is the child's element.
  const { conflicts, skip } = await settleRun(
    client,
    ctx,
    t.parent,
    considered.map(({ p }) => ({ key: p.parentKey!, sourceTs: p.ts, incoming: p.element })),
    newer,
  );
  const results: ApplyResult[] = plans.map((p) => ({ status: 'ignored', why: `${m.monolithTable} ${JSON.stringify(p.childKey)}: parent unknown, nothing to remove` }));
  considered.forEach(({ i }, j) => {
    results[i] = outcomeOf(ctx, conflicts[j]);
  });
  const final = [...lastPerKey(considered.filter((_, j) => !skip[j]).map(({ p }) => ({ key: p.childKey, value: p }))).values()];
  if (!final.length) return results;

  const parents = new Map<string, Row>();
  for (const p of final) {
    parents.set(canonicalKey(p.parentKey!), p.parentKey!);
    const old = known.get(canonicalKey(p.childKey));
    if (old) parents.set(canonicalKey(old), old);
  }
  const withPlaceholders = await resyncAll(client, t, [...parents.values()]);

  const drops = final.filter(
    (p) => withPlaceholders.has(canonicalKey(p.parentKey!)) && m.orderBy && (p.op !== 'd' || !known.has(canonicalKey(p.childKey))),
  );
  if (drops.length) {
    await client.query(
      `DELETE FROM strangler_cdc.embedded_rows e USING unnest($3::jsonb[], $4::jsonb[]) AS d(pkey, sort)
        WHERE e.pipeline = $1 AND e.child_table = $2 AND e.parent_key = d.pkey AND e.child_key ? '~' AND e.sort_value = d.sort`,
      [...base, drops.map((p) => JSON.stringify(p.parentKey)), drops.map((p) => JSON.stringify(p.sortValue ?? null))],
    );
  }
  const removed = final.filter((p) => p.op === 'd');
  if (removed.length) {
    await client.query('DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND child_key = ANY($3::jsonb[])', [
      ...base,
      removed.map((p) => JSON.stringify(p.childKey)),
    ]);
  }
  const put = final.filter((p) => p.op !== 'd');
  if (put.length) {
    await client.query(
      `INSERT INTO strangler_cdc.embedded_rows AS r (pipeline, child_table, child_key, parent_key, sort_value, element)
       SELECT $1, $2, c, p, s, el FROM unnest($3::jsonb[], $4::jsonb[], $5::jsonb[], $6::jsonb[]) AS u(c, p, s, el)
       ON CONFLICT (pipeline, child_table, child_key)
         DO UPDATE SET parent_key = EXCLUDED.parent_key, sort_value = EXCLUDED.sort_value, element = EXCLUDED.element`,
      [
        ...base,
        put.map((p) => JSON.stringify(p.childKey)),
        put.map((p) => JSON.stringify(p.parentKey)),
        put.map((p) => JSON.stringify(p.sortValue ?? null)),
        put.map((p) => JSON.stringify(p.element)),
      ],
    );
  }
  const [keys, ids] = parentArrays(t, [...parents.values()]);
  const pk = quoteIdent(t.parent.primaryKey[0]);
  await client.query(
    `UPDATE ${qualified(t.parent)} p SET ${quoteIdent(m.column)} = ${AGGREGATE('$1', '$2', 'k.pkey')}
       FROM unnest($3::jsonb[], $4::${arrayType(t.parent, t.parent.primaryKey[0])}) AS k(pkey, pid) WHERE p.${pk} = k.pid`,
    [...base, keys, ids],
  );
  return results;
}

function parentArrays(t: EmbedTarget, parents: Row[]): [string[], unknown[]] {
  const pk = t.parent.primaryKey[0];
  const column = t.parent.columns.get(pk)!;
  return [parents.map((p) => JSON.stringify(p)), parents.map((p) => fromDebezium(p[pk], column))];
}

/**
 * `embedded.resync` for many parents at once; returns the parents whose entries include placeholders afterwards.
 */
async function resyncAll(client: PoolClient, t: EmbedTarget, parents: Row[]): Promise<Set<string>> {
  const [keys, ids] = parentArrays(t, parents);
  const col = quoteIdent(t.embed.column);
  const pk = quoteIdent(t.parent.primaryKey[0]);
  const pairs = `unnest($3::jsonb[], $4::${arrayType(t.parent, t.parent.primaryKey[0])}) AS k(pkey, pid) JOIN ${qualified(t.parent)} p ON p.${pk} = k.pid`;
  const values = [t.pipeline, t.embed.monolithTable, keys, ids];
  const { rows } = await client.query<{ pkey: Row; stale: boolean; placeholders: boolean }>(
    `SELECT k.pkey, p.${col} IS DISTINCT FROM ${AGGREGATE('$1', '$2', 'k.pkey')} AS stale,
            EXISTS (SELECT 1 FROM strangler_cdc.embedded_rows e WHERE e.pipeline = $1 AND e.child_table = $2
                       AND e.parent_key = k.pkey AND e.child_key ? '~') AS placeholders
       FROM ${pairs}`,
    values,
  );
  const out = new Set(rows.filter((r) => r.placeholders).map((r) => canonicalKey(r.pkey)));
  const stale = rows.filter((r) => r.stale).map((r) => r.pkey);
  if (!stale.length) return out;
  const [staleKeys, staleIds] = parentArrays(t, stale);
  const staleValues = [t.pipeline, t.embed.monolithTable, staleKeys, staleIds];
  await client.query('DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND parent_key = ANY($3::jsonb[])', staleValues.slice(0, 3));
  const { rows: seeded } = await client.query<{ pkey: Row }>(
    `INSERT INTO strangler_cdc.embedded_rows (pipeline, child_table, child_key, parent_key, sort_value, element)
     SELECT $1, $2, jsonb_build_object('~', e.ord - 1, 'parent', k.pkey), k.pkey, to_jsonb(e.ord - 1), e.elem
       FROM ${pairs},
            jsonb_array_elements(CASE WHEN jsonb_typeof(p.${col}) = 'array' THEN p.${col} ELSE '[]'::jsonb END) WITH ORDINALITY AS e(elem, ord)
     RETURNING parent_key AS pkey`,
    staleValues,
  );
  for (const r of stale) out.delete(canonicalKey(r));
  for (const r of seeded) out.add(canonicalKey(r.pkey));
  return out;
}
