import { Pool, type ClientBase } from 'pg';
import { ToolkitError } from '../errors';

/**
 * The one way the toolkit creates and changes its own tables (shadow diffs, stage history, the CDC sink's and
 * source's state, the write guard, bulk loads, the worker's registry), whichever database they live in.
 *
 * Each owner lists numbered steps. A step that has shipped is never edited: a change is a new step. Applied steps are
 * recorded per owner in `<schema>.strangler_schema_migrations`, so several owners can share a database (the monolith
 * holds a source's offsets, a reverse sink's state and the write guard in `strangler_cdc`). Steps run in one
 * transaction under an advisory lock, so processes starting together against one database apply each step once, and
 * a failed step leaves nothing half-made.
 */
export interface SchemaStep {
  version: number;
  /** Says what the step does, in the ledger and the logs. */
  name: string;
  statements: string[];
}

export interface OwnedSchema {
  /** Who owns the tables, e.g. `cdc-sink`; the ledger's key. */
  owner: string;
  /** Where the tables and the ledger live. */
  schema: string;
  steps: SchemaStep[];
}

/** The database was migrated by a newer build: running an older one against it could corrupt what it does not know. */
export class SchemaTooNewError extends ToolkitError {
  constructor(readonly owner: string, readonly applied: number, readonly known: number) {
    super(
      `${owner}: the database's schema is at version ${applied}, but this build knows only up to ${known}; run the newer build (or restore the database) rather than downgrading`,
    );
  }
}

const LEDGER = 'strangler_schema_migrations';
// Advisory lock keys are (int4, int4): a fixed class for schema changes, the schema's hash for the object. Locks are
// per database, so unrelated databases never wait on each other.
const LOCK_CLASS = 0x5343484d; // "SCHM"

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

function checkSteps(owned: OwnedSchema): void {
  owned.steps.forEach((s, i) => {
    if (s.version !== i + 1) throw new Error(`${owned.owner}: schema step ${i + 1} is numbered ${s.version}; steps are numbered 1, 2, 3… in order`);
  });
}

/** Applies the owner's steps the database does not have yet; returns the versions applied now. */
export async function migrateOwnedSchema(db: Pool | ClientBase, owned: OwnedSchema): Promise<number[]> {
  checkSteps(owned);
  if (db instanceof Pool) {
    const client = await db.connect();
    try {
      return await migrateOwnedSchema(client, owned);
    } finally {
      client.release();
    }
  }
  const ledger = `${ident(owned.schema)}.${LEDGER}`;
  await db.query('BEGIN');
  try {
    await db.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, hash32(owned.schema)]);
    // Inside the lock: two processes creating the same schema at once would otherwise collide on the catalog.
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${ident(owned.schema)}`);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${ledger} (
         owner      text NOT NULL,
         version    integer NOT NULL,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (owner, version)
       )`,
    );
    const { rows } = await db.query<{ version: number }>(`SELECT version FROM ${ledger} WHERE owner = $1`, [owned.owner]);
    const done = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > owned.steps.length) throw new SchemaTooNewError(owned.owner, newest, owned.steps.length);
    const applied: number[] = [];
    for (const step of owned.steps) {
      if (done.has(step.version)) continue;
      for (const statement of step.statements) await db.query(statement);
      await db.query(`INSERT INTO ${ledger} (owner, version, name) VALUES ($1, $2, $3)`, [owned.owner, step.version, step.name]);
      applied.push(step.version);
    }
    await db.query('COMMIT');
    return applied;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
