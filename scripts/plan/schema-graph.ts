import type { Client } from 'pg';

/** What `strangler init` reads of a live database: tables, keys, columns and foreign keys (schema public). */
export interface DbTable {
  name: string;
  columns: string[];
  primaryKey: string[];
}

export interface ForeignKey {
  name: string;
  from: string;
  fromColumns: string[];
  to: string;
  toColumns: string[];
  onDeleteCascade: boolean;
  notNull: boolean;
}

export interface SchemaGraph {
  tables: DbTable[];
  foreignKeys: ForeignKey[];
}

export async function readSchemaGraph(db: Client): Promise<SchemaGraph> {
  const { rows: cols } = await db.query<{ table_name: string; column_name: string; is_pk: boolean }>(
    `SELECT c.relname AS table_name, a.attname AS column_name,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey)) AS is_pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname, a.attnum`,
  );
  const tables = new Map<string, DbTable>();
  for (const r of cols) {
    const t = tables.get(r.table_name) ?? { name: r.table_name, columns: [], primaryKey: [] };
    t.columns.push(r.column_name);
    if (r.is_pk) t.primaryKey.push(r.column_name);
    tables.set(r.table_name, t);
  }
  const { rows: fks } = await db.query<{ name: string; from_table: string; to_table: string; from_cols: string[]; to_cols: string[]; on_delete: string; not_null: boolean }>(
    `SELECT con.conname AS name, src.relname AS from_table, dst.relname AS to_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS from_cols,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS to_cols,
            con.confdeltype AS on_delete,
            (SELECT bool_and(a.attnotnull) FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)) AS not_null
       FROM pg_constraint con
       JOIN pg_class src ON src.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = src.relnamespace
       JOIN pg_class dst ON dst.oid = con.confrelid
      WHERE con.contype = 'f' AND ns.nspname = 'public'
      ORDER BY src.relname, con.conname`,
  );
  return {
    tables: [...tables.values()],
    foreignKeys: fks.map((f) => ({ name: f.name, from: f.from_table, fromColumns: f.from_cols, to: f.to_table, toColumns: f.to_cols, onDeleteCascade: f.on_delete === 'c', notNull: f.not_null })),
  };
}
