import type { PoolClient } from 'pg';

/** The diff store's tables: shadow diffs and their counts, in the facade's own database. */
/** Versioned, append-only: a shipped step is never edited, a change is a new step. */
const MIGRATIONS: { version: number; sql: string[] }[] = [
  {
    version: 1,
    sql: [
      `CREATE TABLE shadow_diffs (
        id bigserial PRIMARY KEY,
        context text NOT NULL,
        route text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        request_id text,
        monolith_status integer,
        service_status integer,
        diffs jsonb NOT NULL,
        ignored jsonb NOT NULL DEFAULT '[]',
        noise jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      'CREATE INDEX shadow_diffs_newest ON shadow_diffs (created_at DESC, id DESC)',
      'CREATE INDEX shadow_diffs_context_newest ON shadow_diffs (context, created_at DESC, id DESC)',
      `CREATE TABLE shadow_counts (
        context text NOT NULL,
        route text NOT NULL,
        compared bigint NOT NULL DEFAULT 0,
        matched bigint NOT NULL DEFAULT 0,
        diffs bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        noise bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (context, route)
      )`,
    ],
  },
];

const SCHEMA_LOCK = 0x53484457; // "SHDW"

export async function migrateDiffSchema(client: PoolClient): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS shadow_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM shadow_schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const sql of m.sql) await client.query(sql);
      await client.query('INSERT INTO shadow_schema_migrations (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
