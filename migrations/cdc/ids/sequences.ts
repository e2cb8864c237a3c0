import type { Client } from 'pg';
import { quoteIdent } from '../mapping';

/** The sequence behind a table's single-column integer primary key. */
export interface KeySequence {
  table: string;
  column: string;
  /** Qualified, quoted name, usable in SQL as is. */
  sequence: string;
  /** The last value handed out, or null when `nextval` was never called. */
  lastValue: number | null;
  /** What the next `nextval` returns. */
  next: number;
  min: number;
  max: number;
  increment: number;
}

/** Largest id below and at-or-above the boundary (null when there is none). */
export interface IdSpread {
  below: number | null;
  above: number | null;
}

const num = (v: string | null) => (v === null ? null : Number(v));

/** The integer primary key of a table and the sequence behind it. */
export interface TableKey {
  table: string;
  column: string;
  sequence: string;
}

export type Skipped = { table: string; skipped: string };

export async function tableKey(db: Client, table: string): Promise<TableKey | Skipped> {
  const { rows } = await db.query<{ column: string; type: string; sequence: string | null }>(
    `SELECT a.attname AS column, format_type(a.atttypid, NULL) AS type,
            pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
      WHERE i.indisprimary AND n.nspname = 'public' AND c.relname = $1`,
    [table],
  );
  if (rows.length !== 1) return { table, skipped: rows.length ? 'composite primary key' : 'no primary key' };
  const [{ column, type, sequence }] = rows;
  if (!['integer', 'bigint', 'smallint'].includes(type)) return { table, skipped: `primary key ${column} is ${type}, not an integer` };
  if (!sequence) return { table, skipped: `primary key ${column} has no sequence (ids come from the application)` };
  return { table, column, sequence };
}

export async function sequenceState(db: Client, key: TableKey): Promise<KeySequence> {
  const state = await db.query<{ last_value: string; is_called: boolean }>(`SELECT last_value, is_called FROM ${key.sequence}`);
  const meta = await db.query<{ seqmin: string; seqmax: string; seqincrement: string }>(
    'SELECT seqmin, seqmax, seqincrement FROM pg_sequence WHERE seqrelid = $1::regclass',
    [key.sequence],
  );
  return {
    ...key,
    lastValue: state.rows[0].is_called ? Number(state.rows[0].last_value) : null,
    next: Number(state.rows[0].last_value) + (state.rows[0].is_called ? Number(meta.rows[0].seqincrement) : 0),
    min: Number(meta.rows[0].seqmin),
    max: Number(meta.rows[0].seqmax),
    increment: Number(meta.rows[0].seqincrement),
  };
}

export async function idSpread(db: Client, table: string, column: string, boundary: number): Promise<IdSpread> {
  const { rows } = await db.query<{ below: string | null; above: string | null }>(
    `SELECT max(${quoteIdent(column)}) FILTER (WHERE ${quoteIdent(column)} < $1) AS below,
            max(${quoteIdent(column)}) FILTER (WHERE ${quoteIdent(column)} >= $1) AS above
       FROM public.${quoteIdent(table)}`,
    [boundary],
  );
  return { below: num(rows[0].below), above: num(rows[0].above) };
}
