import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import { RowMappingError, fromDebezium, quoteIdent, type EmbedMapping, type TableInfo } from '../mapping';
import { targetTable, type ApplyContext, type ApplyResult, type Change } from './apply-context';
import { localWriteAfter, outcomeOf, settle } from './conflicts';
import { PoisonEventError } from './errors';
import { bindRow, deleteByKey, keyOf, qualified, run, upsert } from './sql';

/**
 * Service → monolith: a service row becomes the monolith row it came from, and an embedded array becomes the child
 * rows again. Children are matched to elements by position so their ids stay as they were; only surplus rows are
 * deleted and only new elements inserted (ids from the monolith's own sequence).
 */
export async function applyReverse(client: PoolClient, ctx: ApplyContext, { event, key }: Change): Promise<ApplyResult> {
  const serviceTable = event.source.table;
  const m = ctx.mapping.rowsForServiceTable(serviceTable);
  if (!m) throw new PoisonEventError('unknown_table', `the plan maps no monolith table to service table ${serviceTable}`);
  const target = targetTable(ctx, m.monolithTable);
  const children = ctx.mapping.embedsInto(serviceTable).map((embed) => ({ embed, table: targetTable(ctx, embed.monolithTable) }));
  const keep = (column: string) => target.columns.has(column);

  if (event.op === 't') {
    for (const c of children) await run(client, `DELETE FROM ${qualified(c.table)}`);
    await run(client, `DELETE FROM ${qualified(target)}`);
    return { status: 'applied' };
  }

  const source = event.op === 'd' ? { ...(key ?? {}), ...(event.before ?? {}) } : event.after!;
  const rows = ctx.mapping.toMonolithRows(serviceTable, source, keep);
  const targetKey = keyOf(target, rows.row);
  const newer = await localWriteAfter(client, target.name, targetKey, event.source.ts_ms);
  const met = newer === null ? null : await settle(client, ctx, target, targetKey, { currentTs: newer, sourceTs: event.source.ts_ms, incoming: event.op === 'd' ? null : rows.row });
  const outcome = outcomeOf(ctx, met);
  if (outcome.status === 'conflict') return outcome;

  const parentValue = targetKey[target.primaryKey[0]];
  if (event.op === 'd') {
    // Deleted explicitly: with session_replication_role = replica, ON DELETE CASCADE (a trigger) does not fire.
    for (const c of children) await deleteChildren(client, c.table, c.embed, parentValue);
    await deleteByKey(client, target, targetKey);
    return outcome;
  }

  await upsert(client, target, rows.row);
  for (const { mapping, rows: childRows } of rows.children) {
    const column = mapping.column;
    if (event.before && column in event.before && sameJson(event.before[column], event.after![column])) continue;
    await rewriteChildren(client, targetTable(ctx, mapping.monolithTable), mapping, parentValue, childRows);
  }
  return outcome;
}

export function sameJson(a: unknown, b: unknown): boolean {
  const parse = (v: unknown) => (typeof v === 'string' ? safeParse(v) : v);
  return JSON.stringify(parse(a)) === JSON.stringify(parse(b));
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function deleteChildren(client: PoolClient, table: TableInfo, embed: EmbedMapping, parentValue: unknown): Promise<void> {
  const column = table.columns.get(embed.parentKey)!;
  await run(client, `DELETE FROM ${qualified(table)} WHERE ${quoteIdent(embed.parentKey)} = $1`, [fromDebezium(parentValue, column)]);
}

export async function rewriteChildren(client: PoolClient, table: TableInfo, embed: EmbedMapping, parentValue: unknown, wanted: Row[]): Promise<void> {
  const parentColumn = table.columns.get(embed.parentKey)!;
  const order = [...(embed.orderBy ? [embed.orderBy] : []), ...table.primaryKey].map(quoteIdent).join(', ');
  const { rows: existing } = await run<Row>(
    client,
    `SELECT ${table.primaryKey.map(quoteIdent).join(', ')} FROM ${qualified(table)} WHERE ${quoteIdent(embed.parentKey)} = $1 ORDER BY ${order}`,
    [fromDebezium(parentValue, parentColumn)],
  );
  // Surplus rows first, so moving the kept ones to positions 0..n-1 cannot hit a unique (parent, position).
  for (const row of existing.slice(wanted.length)) await deleteByKey(client, table, row);
  for (let i = 0; i < wanted.length; i++) {
    const child = { ...wanted[i], [embed.parentKey]: parentValue };
    if (i < existing.length) await updateChild(client, table, existing[i], child);
    else await insertChild(client, table, child);
  }
}

async function updateChild(client: PoolClient, table: TableInfo, key: Row, child: Row): Promise<void> {
  const { columns, values } = bindRow(table, child);
  const keyBound = bindRow(table, key);
  const sets = columns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(', ');
  const where = keyBound.columns.map((c, i) => `${quoteIdent(c)} = $${columns.length + i + 1}`).join(' AND ');
  await run(client, `UPDATE ${qualified(table)} SET ${sets} WHERE ${where}`, [...values, ...keyBound.values]);
}

async function insertChild(client: PoolClient, table: TableInfo, child: Row): Promise<void> {
  const { columns, values } = bindRow(table, child);
  const missing = table.primaryKey.filter((c) => !columns.includes(c) && !table.columns.get(c)!.hasDefault);
  if (missing.length) throw new RowMappingError(table.name, `cannot insert a child row: primary key ${missing.join(', ')} has no default`);
  await run(
    client,
    `INSERT INTO ${qualified(table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  );
}
