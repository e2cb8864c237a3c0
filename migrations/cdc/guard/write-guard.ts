import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { quoteIdent } from '../mapping';
import { migrateOwnedSchema, type OwnedSchema } from '../../../lib/db/schema-migrations';

/**
 * The write guard: proof that a service in shadow honours the dry-run marker, and that it never writes reference
 * tables. The CDC sink applies changes with `session_replication_role = replica`, so an ordinary trigger on the
 * service's captured tables fires only for writes that did *not* come from the sink. The trigger is a deferred
 * constraint trigger: it runs at COMMIT, so a dry run (a transaction rolled back) never reaches it, and a write the
 * service does commit is counted and then refused — the transaction fails, nothing of it lands, and nothing can be
 * reverse-synced into the monolith. The count lives in sequences because `nextval`/`setval` are not undone by the
 * very rollback that refuses the write.
 */
export interface GuardedTable {
  /** The service's table (schema public). */
  table: string;
  /** Reference data: guarded at every stage, not only in shadow. */
  reference: boolean;
}

export type GuardOperation = 'INSERT' | 'UPDATE' | 'DELETE';

export interface GuardTableStatus {
  table: string;
  reference: boolean;
  /** Whether service writes to the table are refused now. */
  armed: boolean;
  /** Refused transactions since extraction (one per transaction, however many rows it wrote). */
  violations: number;
  lastViolation: { at: string; operation: GuardOperation } | null;
}

export interface GuardStatus {
  context: string;
  violations: number;
  lastViolation: { table: string; at: string; operation: GuardOperation } | null;
  tables: GuardTableStatus[];
}

const TRIGGER = 'strangler_write_guard';
const OPERATIONS: GuardOperation[] = ['INSERT', 'UPDATE', 'DELETE'];

/** Step 1 says IF NOT EXISTS because databases made before the ledger already hold the table. */
export const GUARD_SCHEMA: OwnedSchema = {
  owner: 'write-guard',
  schema: 'strangler_cdc',
  steps: [
    {
      version: 1,
      name: 'write guard table and trigger function',
      statements: [
        `CREATE TABLE IF NOT EXISTS strangler_cdc.write_guard (
           tbl        text PRIMARY KEY,
           context    text NOT NULL,
           reference  boolean NOT NULL,
           armed      boolean NOT NULL,
           counter    text NOT NULL,
           last       text NOT NULL
         )`,
        // TG_ARGV: what the service was told (for the message), the counter and last-violation sequences, and the
        // epoch ms from which the guard counts (a grace after a rollback, for requests the service took in canary).
        `CREATE OR REPLACE FUNCTION strangler_cdc.guard_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
           IF (extract(epoch FROM clock_timestamp()) * 1000)::bigint < TG_ARGV[3]::bigint THEN
             RETURN NULL;
           END IF;
           PERFORM nextval(TG_ARGV[1]::regclass);
           PERFORM setval(TG_ARGV[2]::regclass, (extract(epoch FROM clock_timestamp()) * 1000)::bigint * 4
             + CASE TG_OP WHEN 'INSERT' THEN 1 WHEN 'UPDATE' THEN 2 ELSE 3 END);
           RAISE EXCEPTION 'strangler write guard: % on %.% refused: %', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0]
             USING ERRCODE = 'SG001',
                   HINT = 'A request marked x-strangler-shadow: 1 must run in a transaction that is rolled back; reference tables are written only by the CDC sink.';
         END
         $fn$`,
      ],
    },
  ],
};

/** Sequence names from a hash: table names may be mixed case or long, sequence names must stay valid identifiers. */
function sequences(table: string): { counter: string; last: string } {
  const h = createHash('sha256').update(table).digest('hex').slice(0, 16);
  return { counter: `strangler_cdc.guard_${h}_count`, last: `strangler_cdc.guard_${h}_last` };
}

async function withClient<T>(databaseUrl: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'strangler-write-guard' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Installs or updates the guard of `context`'s tables. Reference tables are always armed; the others as `armed`
 * says (armed in shadow, disarmed once the service takes real writes). `graceMs` delays counting on tables being
 * armed now. Idempotent; takes each table's trigger lock briefly (bounded at 5 s).
 */
export async function applyGuard(databaseUrl: string, context: string, tables: GuardedTable[], armed: boolean, graceMs = 0): Promise<void> {
  await withClient(databaseUrl, async (c) => {
    await migrateOwnedSchema(c, GUARD_SCHEMA);
    await c.query('BEGIN');
    try {
      await c.query("SET LOCAL lock_timeout = '5s'");
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['strangler_write_guard']);
      const from = graceMs > 0 ? Date.now() + graceMs : 0;
      for (const t of tables) {
        const seq = sequences(t.table);
        const on = t.reference || armed;
        for (const s of [seq.counter, seq.last]) await c.query(`CREATE SEQUENCE IF NOT EXISTS ${s} MINVALUE 0 START 1`);
        await c.query(
          `INSERT INTO strangler_cdc.write_guard (tbl, context, reference, armed, counter, last) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tbl) DO UPDATE SET context = EXCLUDED.context, reference = EXCLUDED.reference, armed = EXCLUDED.armed`,
          [t.table, context, t.reference, on, seq.counter, seq.last],
        );
        const target = `public.${quoteIdent(t.table)}`;
        await c.query(`DROP TRIGGER IF EXISTS ${TRIGGER} ON ${target}`);
        if (!on) continue;
        const reason = t.reference ? `${t.table} is reference data of ${context}, written only by the CDC sink` : `${context} is in shadow: its writes must be dry runs`;
        const args = [reason.replace(/'/g, "''"), seq.counter, seq.last, String(t.reference ? 0 : from)].map((a) => `'${a}'`).join(', ');
        await c.query(
          `CREATE CONSTRAINT TRIGGER ${TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${target}
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION strangler_cdc.guard_write(${args})`,
        );
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** The guard of every context whose tables live in this database; empty when none was installed. */
export async function readGuard(databaseUrl: string): Promise<GuardStatus[]> {
  return withClient(databaseUrl, async (c) => {
    const { rows: exists } = await c.query<{ ok: boolean }>("SELECT to_regclass('strangler_cdc.write_guard') IS NOT NULL AS ok");
    if (!exists[0].ok) return [];
    const { rows } = await c.query<{ tbl: string; context: string; reference: boolean; armed: boolean; counter: string; last: string }>(
      'SELECT tbl, context, reference, armed, counter, last FROM strangler_cdc.write_guard ORDER BY context, tbl',
    );
    const byContext = new Map<string, GuardStatus>();
    for (const r of rows) {
      const read = async (seq: string) => {
        const { rows: v } = await c.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${seq}`);
        return v[0].is_called ? BigInt(v[0].last_value) : 0n;
      };
      const [violations, last] = await Promise.all([read(r.counter), read(r.last)]);
      const lastViolation = last > 0n ? { at: new Date(Number(last / 4n)).toISOString(), operation: OPERATIONS[Number(last % 4n) - 1] } : null;
      const status = byContext.get(r.context) ?? { context: r.context, violations: 0, lastViolation: null, tables: [] };
      status.tables.push({ table: r.tbl, reference: r.reference, armed: r.armed, violations: Number(violations), lastViolation });
      status.violations += Number(violations);
      if (lastViolation && (!status.lastViolation || lastViolation.at > status.lastViolation.at)) status.lastViolation = { table: r.tbl, ...lastViolation };
      byContext.set(r.context, status);
    }
    return [...byContext.values()];
  });
}

/** Forgets counted violations of `context` (after the service was fixed); the guard itself stays as it is. */
export async function resetGuard(databaseUrl: string, context: string): Promise<void> {
  await withClient(databaseUrl, async (c) => {
    const { rows: exists } = await c.query<{ ok: boolean }>("SELECT to_regclass('strangler_cdc.write_guard') IS NOT NULL AS ok");
    if (!exists[0].ok) return;
    const { rows } = await c.query<{ counter: string; last: string }>('SELECT counter, last FROM strangler_cdc.write_guard WHERE context = $1', [context]);
    for (const r of rows) for (const s of [r.counter, r.last]) await c.query('SELECT setval($1::regclass, 1, false)', [s]);
  });
}
