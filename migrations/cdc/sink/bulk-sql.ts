import type { PoolClient } from 'pg';
import type { Row } from '../events/envelope';
import { RowMappingError, quoteIdent, type TableInfo } from '../mapping';
import { bindRow, qualified } from './sql';

/** Postgres accepts 65 535 bind parameters per statement; leave room for the shared ones. */
const MAX_PARAMS = 60_000;

/**
 * An embed's array on a parent INSERT: built from the children parked in `strangler_cdc.embedded_rows` so far
 * (`[]` when none). Never part of the UPDATE on conflict: an existing parent's array is the children's business.
 */
export interface ParkedChildren {
  column: string;
  pipeline: string;
  childTable: string;
  /** The parent key as stored in embedded_rows.parent_key (JSON text). */
  parentKey: (row: Row) => string;
}

/** A typed array parameter for `= ANY(...)` / `unnest(...)` over a column's values. */
export const arrayType = (table: TableInfo, column: string) => `${quoteIdent(table.columns.get(column)!.type)}[]`;

interface Group {
  columns: string[];
  rows: { row: Row; values: unknown[] }[];
}

/**
 * INSERT … ON CONFLICT (pk) DO UPDATE for rows with distinct keys. Rows go in as one array per column through
 * unnest: a statement's size (and planning time) stays the same whatever the number of rows. Rows are grouped by
 * their column set (they all share one unless the source table changed mid-stream).
 */
export async function bulkUpsert(client: PoolClient, table: TableInfo, rows: Row[], parked: ParkedChildren[] = []): Promise<void> {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const { columns, values } = bindRow(table, row);
    for (const pk of table.primaryKey) if (!columns.includes(pk)) throw new RowMappingError(table.name, `no value for primary-key column ${pk}`);
    const signature = columns.join('\u0000');
    const group = groups.get(signature) ?? { columns, rows: [] };
    group.rows.push({ row, values });
    groups.set(signature, group);
  }
  for (const group of groups.values()) {
    // unnest flattens multi-dimensional arrays, so array-typed columns take the VALUES form.
    if (group.columns.some((c) => table.columns.get(c)!.isArray)) await upsertValues(client, table, group, parked);
    else await upsertUnnest(client, table, group, parked);
  }
}

function onConflict(table: TableInfo, columns: string[]): string {
  const updates = columns.filter((c) => !table.primaryKey.includes(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
  return ` ON CONFLICT (${table.primaryKey.map(quoteIdent).join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
}

const aggregate = (pipeline: string, childTable: string, parentKey: string) =>
  `COALESCE((SELECT jsonb_agg(e.element ORDER BY e.sort_value, e.child_key) FROM strangler_cdc.embedded_rows e
     WHERE e.pipeline = ${pipeline} AND e.child_table = ${childTable} AND e.parent_key = ${parentKey}), '[]'::jsonb)`;

async function upsertUnnest(client: PoolClient, table: TableInfo, group: Group, parked: ParkedChildren[]): Promise<void> {
  const { columns, rows } = group;
  const values: unknown[] = columns.map((_, i) => rows.map((r) => r.values[i]));
  const arrays = columns.map((c, i) => `$${i + 1}::${arrayType(table, c)}`);
  const aliases = columns.map((_, i) => `v${i}`);
  const select = aliases.map((a) => `u.${a}`);
  const joins: string[] = [];
  if (parked.length) {
    // Distinct parents per statement, so one parent-key array serves every embed.
    values.push(rows.map((r) => parked[0].parentKey(r.row)));
    const keys = `$${values.length}::jsonb[]`;
    arrays.push(keys);
    aliases.push('pkey');
    parked.forEach((p, j) => {
      values.push(p.pipeline, p.childTable);
      const [pipeline, child] = [`$${values.length - 1}`, `$${values.length}`];
      joins.push(
        `LEFT JOIN (SELECT e.parent_key, jsonb_agg(e.element ORDER BY e.sort_value, e.child_key) AS items
                      FROM strangler_cdc.embedded_rows e
                     WHERE e.pipeline = ${pipeline} AND e.child_table = ${child} AND e.parent_key = ANY(${keys})
                     GROUP BY e.parent_key) a${j} ON a${j}.parent_key = u.pkey`,
      );
      select.push(`COALESCE(a${j}.items, '[]'::jsonb)`);
    });
  }
  const target = [...columns, ...parked.map((p) => p.column)].map(quoteIdent).join(', ');
  await client.query(
    `INSERT INTO ${qualified(table)} (${target}) SELECT ${select.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${aliases.join(', ')}) ${joins.join(' ')}` +
      onConflict(table, columns),
    values,
  );
}

async function upsertValues(client: PoolClient, table: TableInfo, group: Group, parked: ParkedChildren[]): Promise<void> {
  const { columns, rows } = group;
  const perRow = columns.length + parked.length * 3;
  const size = Math.max(1, Math.floor(MAX_PARAMS / perRow));
  const head = `INSERT INTO ${qualified(table)} (${[...columns, ...parked.map((p) => p.column)].map(quoteIdent).join(', ')}) VALUES `;
  for (let i = 0; i < rows.length; i += size) {
    const values: unknown[] = [];
    const param = (v: unknown) => (values.push(v), `$${values.length}`);
    const tuples = rows.slice(i, i + size).map(({ row, values: rowValues }) => {
      const params = rowValues.map(param);
      for (const p of parked) params.push(aggregate(param(p.pipeline), param(p.childTable), `${param(p.parentKey(row))}::jsonb`));
      return `(${params.join(', ')})`;
    });
    await client.query(head + tuples.join(', ') + onConflict(table, columns), values);
  }
}

/** DELETE by primary keys in one statement. */
export async function bulkDelete(client: PoolClient, table: TableInfo, keys: Row[]): Promise<void> {
  if (!keys.length) return;
  const pk = table.primaryKey;
  const arrays = pk.map((column) => keys.map((k) => bindRow(table, { [column]: k[column] }).values[0]));
  const unnest = pk.map((c, i) => `$${i + 1}::${arrayType(table, c)}`).join(', ');
  await client.query(
    `DELETE FROM ${qualified(table)} t USING unnest(${unnest}) AS k(${pk.map((_, i) => `k${i}`).join(', ')})
      WHERE ${pk.map((c, i) => `t.${quoteIdent(c)} = k.k${i}`).join(' AND ')}`,
    arrays,
  );
}
