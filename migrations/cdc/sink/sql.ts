import { createHash } from 'node:crypto';
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { Row } from '../events/envelope';
import { RowMappingError, fromDebezium, quoteIdent, type TableInfo } from '../mapping';

const names = new Map<string, string>();

/**
 * A named (prepared) statement: the sink runs the same few statements per table thousands of times, and skipping
 * the parse on each is a measurable part of its throughput.
 */
export function run<R extends QueryResultRow = Record<string, unknown>>(client: PoolClient, text: string, values: unknown[] = []): Promise<QueryResult<R>> {
  let name = names.get(text);
  if (!name) {
    name = `scdc_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return client.query<R>({ name, text, values });
}

export const qualified = (t: TableInfo) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

/** Debezium values → bound parameters for the table's columns; a column the table lacks is a mapping error. */
export function bindRow(table: TableInfo, row: Row): { columns: string[]; values: unknown[] } {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(row)) {
    const column = table.columns.get(name);
    if (!column) throw new RowMappingError(table.name, `the target table has no column ${name} (rename or drop it in the plan)`);
    columns.push(name);
    values.push(fromDebezium(value, column));
  }
  return { columns, values };
}

export function keyOf(table: TableInfo, row: Row): Row {
  const key: Row = {};
  for (const column of table.primaryKey) {
    const value = row[column];
    if (value === undefined || value === null) throw new RowMappingError(table.name, `no value for primary-key column ${column}`);
    key[column] = value;
  }
  return key;
}

/** Extra insert-only columns computed in SQL (an embed's array from the parked children); `$n` placeholders follow the row's. */
export interface InsertOnly {
  column: string;
  sql: (firstParam: number) => string;
  values: unknown[];
}

/**
 * INSERT … ON CONFLICT (pk) DO UPDATE of the given columns: an insert, an update and a snapshot read all become the
 * same statement, and applying it twice changes nothing.
 */
export function upsert(client: PoolClient, table: TableInfo, row: Row, insertOnly: InsertOnly[] = []): Promise<QueryResult> {
  const { columns, values } = bindRow(table, row);
  for (const pk of table.primaryKey) if (!columns.includes(pk)) throw new RowMappingError(table.name, `no value for primary-key column ${pk}`);
  const params = columns.map((_, i) => `$${i + 1}`);
  const allValues = [...values];
  const allColumns = [...columns];
  for (const extra of insertOnly) {
    allColumns.push(extra.column);
    params.push(extra.sql(allValues.length + 1));
    allValues.push(...extra.values);
  }
  const updates = columns.filter((c) => !table.primaryKey.includes(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
  const text =
    `INSERT INTO ${qualified(table)} (${allColumns.map(quoteIdent).join(', ')}) VALUES (${params.join(', ')}) ` +
    `ON CONFLICT (${table.primaryKey.map(quoteIdent).join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
  return run(client, text, allValues);
}

export function deleteByKey(client: PoolClient, table: TableInfo, key: Row): Promise<QueryResult> {
  const { columns, values } = bindRow(table, key);
  const where = columns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
  return run(client, `DELETE FROM ${qualified(table)} WHERE ${where}`, values);
}
