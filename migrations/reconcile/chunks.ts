import type { Client } from 'pg';
import type { Row } from '../cdc/events/envelope';
import type { MappedSide } from './mapped-side';

/** A key range: lower inclusive, upper exclusive, null for unbounded. Keys are arrays (composite keys). */
export interface KeyRange {
  lower: unknown[] | null;
  upper: unknown[] | null;
}

export const ALL: KeyRange = { lower: null, upper: null };

function where(side: MappedSide, range: KeyRange, first = 1): { sql: string; values: unknown[] } {
  const keys = `(${Array.from({ length: side.keyCount }, (_, i) => `s.k${i}`).join(', ')})`;
  const conditions: string[] = [];
  const values: unknown[] = [];
  const params = (key: unknown[]) => `(${key.map((v) => (values.push(v), `$${first + values.length - 1}`)).join(', ')})`;
  if (range.lower) conditions.push(`${keys} >= ${params(range.lower)}`);
  if (range.upper) conditions.push(`${keys} < ${params(range.upper)}`);
  return { sql: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

const keyList = (side: MappedSide) => Array.from({ length: side.keyCount }, (_, i) => `s.k${i}`).join(', ');

export async function countRows(db: Client, side: MappedSide): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM public."${side.table.replace(/"/g, '""')}"`);
  return Number(rows[0].n);
}

/**
 * Every `chunkSize`-th key inside the range, in the database's own order (so text keys follow its collation): the
 * lower bounds of the chunks after the first.
 */
export async function boundaries(db: Client, side: MappedSide, range: KeyRange, chunkSize: number): Promise<unknown[][]> {
  const w = where(side, range, 2);
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT ${Array.from({ length: side.keyCount }, (_, i) => `b.k${i}`).join(', ')} FROM (
       SELECT ${keyList(side)}, row_number() OVER (ORDER BY ${keyList(side)}) AS rn FROM (${side.relation}) s ${w.sql}
     ) b WHERE (b.rn - 1) % $1 = 0 AND b.rn > 1 ORDER BY b.rn`,
    [chunkSize, ...w.values],
  );
  return rows.map((r) => Array.from({ length: side.keyCount }, (_, i) => r[`k${i}`]));
}

/** Chunks covering everything, split at the boundaries. */
export function chunksFrom(bounds: unknown[][], range: KeyRange = ALL): KeyRange[] {
  const edges = [range.lower, ...bounds, range.upper];
  return edges.slice(0, -1).map((lower, i) => ({ lower, upper: edges[i + 1] }));
}

/** Row count and md5 over the canonical rows in key order. */
export async function checksum(db: Client, side: MappedSide, range: KeyRange): Promise<{ rows: number; md5: string | null }> {
  const w = where(side, range);
  const { rows } = await db.query<{ n: string; md5: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(s.row::text, E'\\n' ORDER BY ${keyList(side)})) AS md5 FROM (${side.relation}) s ${w.sql}`,
    w.values,
  );
  return { rows: Number(rows[0].n), md5: rows[0].md5 };
}

export interface FetchedRow {
  key: Row;
  /** column → its value's canonical jsonb text. */
  columns: Record<string, string>;
}

async function selectRows(db: Client, side: MappedSide, condition: { sql: string; values: unknown[] }, into: Map<string, FetchedRow>): Promise<void> {
  const { rows } = await db.query<{ key_text: string; columns: Record<string, string> }>(
    `SELECT jsonb_build_array(${keyList(side)})::text AS key_text,
            (SELECT jsonb_object_agg(e.key, e.value::text) FROM jsonb_each(s.row) e) AS columns
       FROM (${side.relation}) s ${condition.sql} ORDER BY ${keyList(side)}`,
    condition.values,
  );
  for (const r of rows) {
    const values = JSON.parse(r.key_text) as unknown[];
    into.set(r.key_text, { key: Object.fromEntries(side.keyNames.map((name, i) => [name, values[i]])), columns: r.columns ?? {} });
  }
}

/** The rows of one chunk by canonical key text (jsonb of the key values, identical on both sides). */
export async function fetchRows(db: Client, side: MappedSide, range: KeyRange): Promise<Map<string, FetchedRow>> {
  const out = new Map<string, FetchedRow>();
  await selectRows(db, side, where(side, range), out);
  return out;
}

/** The rows of the given keys (canonical key texts, as `fetchRows` returns them), in batches that use the key index. */
export async function fetchRowsByKeys(db: Client, side: MappedSide, keyTexts: string[]): Promise<Map<string, FetchedRow>> {
  const out = new Map<string, FetchedRow>();
  const batch = Math.max(1, Math.floor(1000 / side.keyCount));
  for (let i = 0; i < keyTexts.length; i += batch) {
    const values: unknown[] = [];
    const tuples = keyTexts.slice(i, i + batch).map((text) => {
      const key = JSON.parse(text) as unknown[];
      return `(${key.map((v) => (values.push(v), `$${values.length}`)).join(', ')})`;
    });
    await selectRows(db, side, { sql: `WHERE (${keyList(side)}) IN (${tuples.join(', ')})`, values }, out);
  }
  return out;
}
