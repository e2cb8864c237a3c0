import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import { fromDebezium, quoteIdent, type EmbedMapping, type TableInfo } from '../mapping';
import { qualified, run, type InsertOnly } from './sql';

/**
 * The forward side of an embed (order_items rows → orders.items). Every child row the sink applied is kept in
 * `strangler_cdc.embedded_rows` with its element and sort value, and the parent's array is rebuilt from it in the same
 * transaction. So a child that arrives before its parent simply waits there (the parent's INSERT folds it in), and a
 * child moving position or parent is a plain update of its entry.
 *
 * When the parent's array no longer matches what the index would build, someone else wrote it (the service itself,
 * whose changes the reverse pipeline gave the monolith with `orderBy` = array index). Its elements then become
 * placeholders keyed by index, and a monolith child with that sort value replaces its placeholder.
 */

const aggregate = (p: number) =>
  `COALESCE((SELECT jsonb_agg(e.element ORDER BY e.sort_value, e.child_key) FROM strangler_cdc.embedded_rows e
     WHERE e.pipeline = $${p} AND e.child_table = $${p + 1} AND e.parent_key = $${p + 2}::jsonb), '[]'::jsonb)`;

export interface EmbedTarget {
  pipeline: string;
  embed: EmbedMapping;
  /** The service table holding the array; its single-column primary key identifies the parent. */
  parent: TableInfo;
}

const pk = (t: EmbedTarget) => t.parent.primaryKey[0];
const pkValue = (t: EmbedTarget, parentKey: Row) => fromDebezium(parentKey[pk(t)], t.parent.columns.get(pk(t))!);

export function parentKeyOf(t: EmbedTarget, child: Row): Row | null {
  const value = child[t.embed.parentKey];
  return value === undefined || value === null ? null : { [pk(t)]: value };
}

/** For the parent's INSERT: its array built from the children parked so far (`[]` when none). */
export function parkedChildren(t: EmbedTarget, parentKey: Row): InsertOnly {
  return { column: t.embed.column, sql: aggregate, values: [t.pipeline, t.embed.monolithTable, JSON.stringify(parentKey)] };
}

/** Returns whether the parent row exists and whether its entries include placeholders. */
export async function resync(client: PoolClient, t: EmbedTarget, parentKey: Row): Promise<{ exists: boolean; placeholders: boolean }> {
  const base = [t.pipeline, t.embed.monolithTable, JSON.stringify(parentKey), pkValue(t, parentKey)];
  const { rows } = await run<{ stale: boolean; placeholders: boolean }>(
    client,
    `SELECT p.${quoteIdent(t.embed.column)} IS DISTINCT FROM ${aggregate(1)} AS stale,
            EXISTS (SELECT 1 FROM strangler_cdc.embedded_rows e WHERE e.pipeline = $1 AND e.child_table = $2
                       AND e.parent_key = $3::jsonb AND e.child_key ? '~') AS placeholders
       FROM ${qualified(t.parent)} p WHERE p.${quoteIdent(pk(t))} = $4`,
    base,
  );
  if (!rows.length) return { exists: false, placeholders: false };
  if (!rows[0].stale) return { exists: true, placeholders: rows[0].placeholders };
  await run(client, 'DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND parent_key = $3::jsonb', base.slice(0, 3));
  const inserted = await run(
    client,
    `INSERT INTO strangler_cdc.embedded_rows (pipeline, child_table, child_key, parent_key, sort_value, element)
     SELECT $1, $2, jsonb_build_object('~', e.ord - 1, 'parent', $3::jsonb), $3::jsonb, to_jsonb(e.ord - 1), e.elem
       FROM ${qualified(t.parent)} p,
            jsonb_array_elements(CASE WHEN jsonb_typeof(p.${quoteIdent(t.embed.column)}) = 'array' THEN p.${quoteIdent(t.embed.column)} ELSE '[]'::jsonb END)
              WITH ORDINALITY AS e(elem, ord)
      WHERE p.${quoteIdent(pk(t))} = $4`,
    base,
  );
  return { exists: true, placeholders: (inserted.rowCount ?? 0) > 0 };
}

export async function dropPlaceholder(client: PoolClient, t: EmbedTarget, parentKey: Row, sortValue: unknown): Promise<void> {
  await run(
    client,
    `DELETE FROM strangler_cdc.embedded_rows
      WHERE pipeline = $1 AND child_table = $2 AND parent_key = $3::jsonb AND child_key ? '~' AND sort_value = $4::jsonb`,
    [t.pipeline, t.embed.monolithTable, JSON.stringify(parentKey), JSON.stringify(sortValue ?? null)],
  );
}

/** Upserts a child's entry; returns the parent it had before (a child may move to another parent). */
export async function putChild(client: PoolClient, t: EmbedTarget, childKey: Row, parentKey: Row, sortValue: unknown, element: Row): Promise<Row | null> {
  const { rows } = await run<{ previous: Row | null }>(
    client,
    `WITH old AS (
       SELECT parent_key FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND child_key = $3::jsonb
     )
     INSERT INTO strangler_cdc.embedded_rows AS r (pipeline, child_table, child_key, parent_key, sort_value, element)
     VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb)
     ON CONFLICT (pipeline, child_table, child_key)
       DO UPDATE SET parent_key = EXCLUDED.parent_key, sort_value = EXCLUDED.sort_value, element = EXCLUDED.element
     RETURNING (SELECT parent_key FROM old) AS previous`,
    [t.pipeline, t.embed.monolithTable, JSON.stringify(childKey), JSON.stringify(parentKey), JSON.stringify(sortValue ?? null), JSON.stringify(element)],
  );
  return rows[0]?.previous ?? null;
}

export async function findChild(client: PoolClient, t: EmbedTarget, childKey: Row): Promise<{ parentKey: Row; sortValue: unknown } | null> {
  const { rows } = await run<{ parent_key: Row; sort_value: unknown }>(
    client,
    'SELECT parent_key, sort_value FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND child_key = $3::jsonb',
    [t.pipeline, t.embed.monolithTable, JSON.stringify(childKey)],
  );
  return rows.length ? { parentKey: rows[0].parent_key, sortValue: rows[0].sort_value } : null;
}

export async function removeChild(client: PoolClient, t: EmbedTarget, childKey: Row): Promise<boolean> {
  const { rowCount } = await run(
    client,
    'DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND child_key = $3::jsonb',
    [t.pipeline, t.embed.monolithTable, JSON.stringify(childKey)],
  );
  return (rowCount ?? 0) > 0;
}

/** Rewrites the parent's array from the index; a parent that does not exist yet is left to its INSERT. */
export async function rebuild(client: PoolClient, t: EmbedTarget, parentKey: Row): Promise<void> {
  await run(
    client,
    `UPDATE ${qualified(t.parent)} SET ${quoteIdent(t.embed.column)} = ${aggregate(1)} WHERE ${quoteIdent(pk(t))} = $4`,
    [t.pipeline, t.embed.monolithTable, JSON.stringify(parentKey), pkValue(t, parentKey)],
  );
}

/** The parent is gone: its children's entries go too (their own deletes may still follow and find nothing). */
export async function forgetParent(client: PoolClient, t: EmbedTarget, parentKey: Row): Promise<void> {
  await run(client, 'DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2 AND parent_key = $3::jsonb', [
    t.pipeline,
    t.embed.monolithTable,
    JSON.stringify(parentKey),
  ]);
}

/** A truncate of the child table: every array empties. */
export async function clearAll(client: PoolClient, t: EmbedTarget): Promise<void> {
  await run(client, 'DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1 AND child_table = $2', [t.pipeline, t.embed.monolithTable]);
  await run(client, `UPDATE ${qualified(t.parent)} SET ${quoteIdent(t.embed.column)} = '[]'::jsonb`);
}
