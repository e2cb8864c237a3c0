import type { ValueFormat } from '../events/options';

/** Column and key metadata of the tables a sink writes or reconcile reads, straight from pg_catalog. */

export interface ColumnInfo {
  name: string;
  /** Base type name (`int4`, `timestamptz`, `jsonb`…); for arrays, the element's. Domains resolve to their base. */
  type: string;
  isArray: boolean;
  /** Fractional-second digits of time and timestamp columns (6 when unspecified); null for other types. */
  precision: number | null;
  /**
   * numeric's declared scale (null when none), money's 2 (Debezium's money.fraction.digits); bit(n)'s n in `length`,
   * and varchar(n)'s and char(n)'s n (the sink names the column a too long value does not fit).
   */
  scale: number | null;
  length: number | null;
  /** How the events a sink applies encode this column's values (its pipeline's options); absent: string decimals. */
  format?: ValueFormat;
  notNull: boolean;
  hasDefault: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  /** In table order. */
  columns: Map<string, ColumnInfo>;
  primaryKey: string[];
}

export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

const COLUMNS_SQL = `
  SELECT c.relname AS table_name, a.attname AS column_name,
         COALESCE(CASE WHEN t.typtype = 'd' THEN bt.typname END, et.typname, t.typname) AS type_name,
         (t.typcategory = 'A' OR bt.typcategory = 'A') AS is_array, a.attnotnull AS not_null, a.atthasdef AS has_default,
         CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
    LEFT JOIN pg_type et ON et.oid = COALESCE(bt.typelem, t.typelem) AND et.oid <> 0 AND COALESCE(bt.typcategory, t.typcategory) = 'A'
   WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY c.relname, a.attnum`;

const PRIMARY_KEYS_SQL = `
  SELECT c.relname AS table_name, a.attname AS column_name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
   WHERE i.indisprimary AND n.nspname = $1 AND c.relname = ANY($2::text[])
   ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)`;

interface ColumnRow {
  table_name: string;
  column_name: string;
  type_name: string;
  is_array: boolean | null;
  not_null: boolean;
  has_default: boolean;
  typmod: number;
}

const TEMPORAL = new Set(['timestamp', 'timestamptz', 'time', 'timetz']);

/** Every table must exist and have a primary key: rows are matched by it on both sides. */
/** numeric's typmod packs ((precision << 16) | scale) + 4. */
function scaleOf(type: string, typmod: number): number | null {
  if (type === 'money') return 2;
  return type === 'numeric' && typmod >= 0 ? (typmod - 4) & 0xffff : null;
}

function lengthOf(type: string, typmod: number): number | null {
  if (typmod < 0) return null;
  if (type === 'bit' || type === 'varbit') return typmod;
  // varchar's and bpchar's typmod counts the 4-byte varlena header.
  return type === 'varchar' || type === 'bpchar' ? typmod - 4 : null;
}

export async function loadTables(db: Queryable, tables: string[], schema = 'public', format?: ValueFormat): Promise<Map<string, TableInfo>> {
  const names = [...new Set(tables)];
  const out = new Map<string, TableInfo>(names.map((name) => [name, { schema, name, columns: new Map(), primaryKey: [] }]));
  const { rows } = await db.query<ColumnRow>(COLUMNS_SQL, [schema, names]);
  for (const r of rows) {
    out.get(r.table_name)!.columns.set(r.column_name, {
      name: r.column_name,
      type: r.type_name,
      isArray: r.is_array === true,
      precision: TEMPORAL.has(r.type_name) ? (r.typmod >= 0 ? r.typmod : 6) : null,
      scale: scaleOf(r.type_name, r.typmod),
      length: lengthOf(r.type_name, r.typmod),
      ...(format ? { format } : {}),
      notNull: r.not_null,
      hasDefault: r.has_default,
    });
  }
  const keys = await db.query<{ table_name: string; column_name: string }>(PRIMARY_KEYS_SQL, [schema, names]);
  for (const r of keys.rows) out.get(r.table_name)!.primaryKey.push(r.column_name);
  for (const t of out.values()) {
    if (!t.columns.size) throw new CatalogError(`table ${schema}.${t.name} does not exist`);
    if (!t.primaryKey.length) throw new CatalogError(`table ${schema}.${t.name} has no primary key; rows could not be matched`);
  }
  return out;
}

/** `"name"` with embedded quotes doubled: identifiers come from the plan and the catalog, never from events alone. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
