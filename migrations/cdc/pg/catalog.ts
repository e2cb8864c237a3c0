import type { ClientBase, Pool } from 'pg';
import type { ColumnInfo } from '../events/change-events';

export type Queryable = Pool | ClientBase;

export interface TableShape {
  oid: number;
  schema: string;
  table: string;
  /** Table order, without dropped or generated columns (pgoutput does not send generated ones). */
  columns: ColumnInfo[];
  /** Primary-key columns in key order; empty without a primary key. */
  keyColumns: string[];
}

const SHAPE_SQL = `
  SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table,
    (SELECT json_agg(json_build_object(
              'name', a.attname,
              'typeOid', (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::bigint,
              'typeMod', CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
              'typeName', COALESCE(bt.typname, t.typname),
              'elementOid', (CASE WHEN COALESCE(bt.typcategory, t.typcategory) = 'A' THEN COALESCE(bt.typelem, t.typelem) END)::bigint,
              'notNull', a.attnotnull,
              'defaultExpr', pg_get_expr(ad.adbin, ad.adrelid),
              'enumLabels', (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e
                              WHERE e.enumtypid = CASE WHEN COALESCE(bt.typcategory, t.typcategory) = 'A' THEN COALESCE(bt.typelem, t.typelem) ELSE COALESCE(bt.oid, t.oid) END)) ORDER BY a.attnum)
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
       LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
    (SELECT json_agg(a.attname ORDER BY k.ord)
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = c.oid AND i.indisprimary) AS keys
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace`;

interface ShapeRow {
  oid: number;
  schema: string;
  table: string;
  columns: ColumnInfo[] | null;
  keys: string[] | null;
}

const toShape = (r: ShapeRow): TableShape => ({ oid: r.oid, schema: r.schema, table: r.table, columns: r.columns ?? [], keyColumns: r.keys ?? [] });

export async function tableShapeByName(db: Queryable, schema: string, table: string): Promise<TableShape | null> {
  const { rows } = await db.query<ShapeRow>(`${SHAPE_SQL} WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, [schema, table]);
  return rows.length ? toShape(rows[0]) : null;
}

export async function tableShapeByOid(db: Queryable, oid: number): Promise<TableShape | null> {
  const { rows } = await db.query<ShapeRow>(`${SHAPE_SQL} WHERE c.oid = $1`, [oid]);
  return rows.length ? toShape(rows[0]) : null;
}
