import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import type { ColumnInfo, RowsMapping, TableMap } from '../mapping';
import { targetTable, type ApplyContext, type Change } from './apply-context';
import { SchemaChangeError } from './errors';

/**
 * How the sink notices a source table's schema change that the target cannot follow. A change event carries every
 * column its table has at that moment, so the column list of each table's last applied change is remembered (in the
 * target, `strangler_cdc.source_columns`, to survive restarts): a carried column missing from a later change was
 * dropped or renamed at the source. A value that no longer fits its target column (a type the source widened) is
 * named from the target's catalog when Postgres refuses it.
 */

const RESTART = 'then restart the pipeline (restart the CDC worker): it resumes at this change, nothing after it was applied';

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);

/** Whether the plan carries a source column into the target as it is now. */
function carried(ctx: ApplyContext, m: TableMap, column: string): boolean {
  if (m.kind === 'embed') return column in m.fields || column === m.parentKey || column === m.orderBy;
  const to = ctx.mapping.serviceColumn(m, column);
  return to !== null && targetTable(ctx, m.serviceTable).columns.has(to);
}

function goneMessage(ctx: ApplyContext, m: TableMap, column: string, added: string[]): string {
  const t = m.monolithTable;
  const into = m.kind === 'rows' ? `${m.serviceTable}.${ctx.mapping.serviceColumn(m, column)}` : `${m.serviceTable}.${m.column}[].${m.fields[column] ?? column}`;
  const renamed = added.length ? ` (new in the same change: ${added.join(', ')} — a rename?)` : '';
  const remedy = m.kind === 'rows' ? rowsRemedy(ctx, m, column) : `change tables.${t}.embed in the plan to the new column,`;
  return `incompatible schema change of monolith table ${t}: column ${t}.${column}, carried into ${into}, is gone from its changes (dropped or renamed)${renamed}. Remedy: ${remedy} ${RESTART}`;
}

function rowsRemedy(ctx: ApplyContext, m: RowsMapping, column: string): string {
  const to = ctx.mapping.serviceColumn(m, column)!;
  const info = targetTable(ctx, m.serviceTable).columns.get(to);
  // Without values from the monolith, a required column would refuse every new row.
  const relax = info?.notNull && !info.hasDefault ? ` and give ${m.serviceTable}.${to} a default or drop its NOT NULL in a target migration` : '';
  return `map it in the plan — a rename: tables.${m.monolithTable}.columns: { <new name>: ${to} }; a drop: add ${column} to tables.${m.monolithTable}.drop${relax}, or drop ${m.serviceTable}.${to} in a target migration —`;
}

/**
 * Checks a forward change's columns against what its table had so far and records them in `seen` (a working copy of
 * `ctx.sourceColumns`). Returns the error when a carried column is gone.
 */
export function checkColumns(ctx: ApplyContext, seen: Map<string, string[]>, change: Change): SchemaChangeError | null {
  const { columns, event } = change;
  if (ctx.direction !== 'forward' || !columns || event.op === 'd' || event.op === 't') return null;
  const table = event.source.table;
  const last = seen.get(table);
  if (last && sameList(last, columns)) return null;
  const m = ctx.mapping.forMonolithTable(table);
  if (!m) return null; // an unknown table is poison, dead-lettered as such
  if (last) {
    const now = new Set(columns);
    const before = new Set(last);
    const added = columns.filter((c) => !before.has(c));
    const gone = last.find((c) => !now.has(c) && carried(ctx, m, c));
    if (gone !== undefined) return new SchemaChangeError(table, gone, goneMessage(ctx, m, gone, added));
    // The same columns in another order (a snapshot read and a streamed change): nothing to remember.
    if (!added.length && now.size === before.size) return null;
  }
  seen.set(table, columns);
  return null;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int2: [-(2n ** 15n), 2n ** 15n - 1n],
  int4: [-(2n ** 31n), 2n ** 31n - 1n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

function fits(column: ColumnInfo, value: unknown): boolean {
  if (value === null || value === undefined || column.isArray) return true;
  const range = INT_RANGES[column.type];
  if (range && (typeof value === 'number' || typeof value === 'string') && /^-?\d+$/.test(String(value))) {
    const n = BigInt(String(value));
    return n >= range[0] && n <= range[1];
  }
  if ((column.type === 'varchar' || column.type === 'bpchar') && column.length !== null && typeof value === 'string') {
    return [...value].length <= column.length;
  }
  return true;
}

const typeText = (c: ColumnInfo) => (c.length !== null && (c.type === 'varchar' || c.type === 'bpchar') ? `${c.type}(${c.length})` : c.type);

/**
 * The error for a change Postgres refused because a value does not fit its column (`isMisfit`), naming the column
 * when the target's catalog tells which one it is.
 */
export function misfitError(ctx: ApplyContext, change: Change, err: unknown): SchemaChangeError {
  const table = change.event.source.table;
  const pgMessage = err instanceof Error ? err.message : String(err);
  const m = ctx.direction === 'forward' ? ctx.mapping.forMonolithTable(table) : undefined;
  const found = m?.kind === 'rows' && change.event.after ? misfitColumn(ctx, m, change.event.after) : null;
  const [source, target] = ctx.direction === 'forward' ? ['monolith', 'service'] : ['service', 'monolith'];
  if (!found || !m) {
    return new SchemaChangeError(
      table,
      '',
      `incompatible schema change of ${source} table ${table}: a value does not fit its target column (${pgMessage}): the ${source}'s type is wider than the ${target}'s. Remedy: widen the ${target}'s column in a target migration, ${RESTART}`,
    );
  }
  const { column, info } = found;
  const into = `${m.serviceTable}.${info.name}`;
  return new SchemaChangeError(
    table,
    column,
    `incompatible schema change of monolith table ${table}: a value of ${table}.${column} does not fit the service's ${into} (${typeText(info)}; ${pgMessage}): the monolith's type is wider. Remedy: widen ${into} in a target migration (a service migration), ${RESTART}`,
  );
}

function misfitColumn(ctx: ApplyContext, m: RowsMapping, after: Row): { column: string; info: ColumnInfo } | null {
  const target = targetTable(ctx, m.serviceTable);
  for (const [column, value] of Object.entries(after)) {
    const to = ctx.mapping.serviceColumn(m, column);
    const info = to === null ? undefined : target.columns.get(to);
    if (info && !fits(info, value)) return { column, info };
  }
  return null;
}

export async function loadSourceColumns(client: PoolClient, pipeline: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ tbl: string; columns: string[] }>('SELECT tbl, columns FROM strangler_cdc.source_columns WHERE pipeline = $1', [pipeline]);
  return new Map(rows.map((r) => [r.tbl, r.columns]));
}

/** Records a source table's columns as a bulk load's snapshot saw them: a change streamed after it is checked against them. */
export async function rememberSourceColumns(client: Pick<PoolClient, 'query'>, pipeline: string, table: string, columns: string[]): Promise<void> {
  await client.query(
    `INSERT INTO strangler_cdc.source_columns (pipeline, tbl, columns) VALUES ($1, $2, $3)
     ON CONFLICT (pipeline, tbl) DO UPDATE SET columns = EXCLUDED.columns`,
    [pipeline, table, columns],
  );
}

/** Stores the tables whose columns changed in `seen` (inside the chunk's transaction); true when any did. */
export async function saveSourceColumns(client: PoolClient, pipeline: string, before: Map<string, string[]>, seen: Map<string, string[]>): Promise<boolean> {
  const changed = [...seen].filter(([t, cols]) => !before.has(t) || !sameList(before.get(t)!, cols));
  for (const [table, columns] of changed) await rememberSourceColumns(client, pipeline, table, columns);
  return changed.length > 0;
}
