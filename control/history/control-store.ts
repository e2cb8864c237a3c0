import { Pool } from 'pg';
import { createPool } from '../../lib/db/pool';
import type { Actor, GateResult, HistoryEntry, StagePosition } from '../contracts';
import { ToolkitError } from '../../lib/errors';
import { migrateOwnedSchema, SchemaTooNewError, type OwnedSchema } from '../../lib/db/schema-migrations';

/** Another stage move of the same context holds the lock (another terminal, the dashboard, the automatic rollback). */
export class StageBusyError extends ToolkitError {
  constructor(readonly context: string) {
    super(`another stage move of ${context} is in progress (CLI, dashboard or automatic rollback); nothing was changed, try again once it is done`, { retriable: true });
  }
}

export class ControlStoreError extends ToolkitError {}

export type NewHistoryEntry = Omit<HistoryEntry, 'id' | 'at'>;

/**
 * The toolkit's own state in the facade's database (FACADE_DATABASE_URL): the per-context move lock and the stage
 * history. The facade is the one process that is always running and already watches Unleash, so its database is
 * where a change made in Unleash's UI can be told apart from one a stage service made.
 */
export interface ControlStore {
  /** Runs `fn` holding the context's move lock; refuses at once with StageBusyError while another move holds it. */
  withContextLock<T>(context: string, fn: () => Promise<T>): Promise<T>;
  record(entry: NewHistoryEntry): Promise<HistoryEntry>;
  /** Newest first. */
  list(query: { context?: string; limit: number }): Promise<HistoryEntry[]>;
  close(): Promise<void>;
}

// Advisory lock keys are (int4, int4): a fixed class for stage moves, the context's hash for the object.
const LOCK_CLASS = 0x53544753; // "STGS"

/** Step 1 says IF NOT EXISTS because databases made before the ledger already hold the table. */
export const CONTROL_SCHEMA: OwnedSchema = {
  owner: 'stage-history',
  schema: 'public',
  steps: [
    {
      version: 1,
      name: 'stage history',
      statements: [
        `CREATE TABLE IF NOT EXISTS stage_history (
          id bigserial PRIMARY KEY,
          at timestamptz NOT NULL DEFAULT now(),
          context text NOT NULL,
          actor text NOT NULL,
          from_stage text NOT NULL,
          from_percent integer NOT NULL,
          to_stage text NOT NULL,
          to_percent integer NOT NULL,
          gates jsonb NOT NULL DEFAULT '[]',
          reason text,
          forced boolean NOT NULL DEFAULT false
        )`,
        'CREATE INDEX IF NOT EXISTS stage_history_context ON stage_history (context, id DESC)',
      ],
    },
  ],
};

interface Row {
  id: string;
  at: Date;
  context: string;
  actor: Actor;
  from_stage: StagePosition['stage'];
  from_percent: number;
  to_stage: StagePosition['stage'];
  to_percent: number;
  gates: GateResult[];
  reason: string | null;
  forced: boolean;
}

const entry = (r: Row): HistoryEntry => ({
  id: String(r.id),
  at: r.at.toISOString(),
  context: r.context,
  actor: r.actor,
  from: { stage: r.from_stage, percent: r.from_percent },
  to: { stage: r.to_stage, percent: r.to_percent },
  gates: r.gates,
  reason: r.reason,
  forced: r.forced,
});

export class PgControlStore implements ControlStore {
  private constructor(private readonly pool: Pool) {}

  static async open(databaseUrl: string): Promise<PgControlStore> {
    const pool = createPool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 5_000, application_name: 'strangler-control' });
    try {
      await migrateOwnedSchema(pool, CONTROL_SCHEMA);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof SchemaTooNewError) throw err;
      throw new ControlStoreError(`the toolkit's database (stage lock and history) is unavailable: ${(err as Error).message}`, { cause: err, retriable: true });
    }
    return new PgControlStore(pool);
  }

  async withContextLock<T>(context: string, fn: () => Promise<T>): Promise<T> {
    // A session lock on a connection of its own: it holds across processes, and a process that dies mid-move
    // releases it with its connection, so no move can stay locked forever.
    const unavailable = (err: unknown) =>
      new ControlStoreError(`the toolkit's database (stage lock and history) is unavailable: ${(err as Error).message}`, { cause: err, retriable: true });
    const client = await this.pool.connect().catch((err: unknown) => {
      throw unavailable(err);
    });
    let locked = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, context]).catch((err: unknown) => {
        throw unavailable(err);
      });
      locked = rows[0].locked;
      if (!locked) throw new StageBusyError(context);
      return await fn();
    } finally {
      if (locked) await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, context]).catch(() => undefined);
      client.release();
    }
  }

  async record(e: NewHistoryEntry): Promise<HistoryEntry> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO stage_history (context, actor, from_stage, from_percent, to_stage, to_percent, gates, reason, forced)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [e.context, e.actor, e.from.stage, e.from.percent, e.to.stage, e.to.percent, JSON.stringify(e.gates), e.reason, e.forced],
    );
    return entry(rows[0]);
  }

  async list(query: { context?: string; limit: number }): Promise<HistoryEntry[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM stage_history WHERE ($1::text IS NULL OR context = $1) ORDER BY id DESC LIMIT $2',
      [query.context ?? null, query.limit],
    );
    return rows.map(entry);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
