import { Pool } from 'pg';
import { readLeases, WORKERS_TABLE, type LeaseTable } from './leases';

/**
 * Which pipelines should run, kept in the worker's database so a restarted worker resumes them (the pipelines
 * themselves resume from their replication slot and stored offsets).
 */
export class PipelineRegistry {
  private constructor(
    private readonly pool: Pool,
    /** The toolkit's database, where the workers' lease sessions hold their locks. */
    readonly databaseUrl: string,
  ) {}

  static async open(databaseUrl: string): Promise<PipelineRegistry> {
    const pool = new Pool({ connectionString: databaseUrl, max: 2, application_name: 'strangler-cdc-worker' });
    // An idle connection the server ends (a restart, pg_terminate_backend, a dropped database) is emitted on the pool;
    // without a listener that would crash the worker. pg drops the client, and the next query opens a new one.
    pool.on('error', () => undefined);
    // Workers starting together: CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin (a unique
    // violation in pg_type), so the schema is created under a lock.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('strangler.cdc.schema'))");
      await client.query(`
        CREATE TABLE IF NOT EXISTS cdc_pipelines (
          name        text PRIMARY KEY,
          context     text NOT NULL,
          direction   text NOT NULL CHECK (direction IN ('forward', 'reverse')),
          desired     text NOT NULL CHECK (desired IN ('running', 'stopped')),
          updated_at  timestamptz NOT NULL DEFAULT now()
        )`);
      await client.query(WORKERS_TABLE);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await pool.end().catch(() => undefined);
      throw err;
    }
    client.release();
    return new PipelineRegistry(pool, databaseUrl);
  }

  async desiredRunning(): Promise<{ name: string; context: string; direction: 'forward' | 'reverse' }[]> {
    const { rows } = await this.pool.query(`SELECT name, context, direction FROM cdc_pipelines WHERE desired = 'running' ORDER BY name`);
    return rows;
  }

  async setDesired(name: string, context: string, direction: 'forward' | 'reverse', desired: 'running' | 'stopped'): Promise<void> {
    await this.pool.query(
      `INSERT INTO cdc_pipelines (name, context, direction, desired) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET desired = EXCLUDED.desired, updated_at = now()`,
      [name, context, direction, desired],
    );
  }

  /** Which live worker holds each of these pipelines, and every live worker (see leases.ts). */
  leases(pipelines: string[]): Promise<LeaseTable> {
    return readLeases(this.pool, pipelines);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
