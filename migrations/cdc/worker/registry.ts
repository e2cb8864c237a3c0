import type { Pool } from 'pg';
import type { Stage } from '../../../control/contracts';
import { createPool } from '../../../lib/db/pool';
import { migrateOwnedSchema, type OwnedSchema } from '../../../lib/db/schema-migrations';
import { readLeases, WORKERS_TABLE, type LeaseTable } from './leases';

/** Step 1 says IF NOT EXISTS because databases made before the ledger already hold the table. */
export const REGISTRY_SCHEMA: OwnedSchema = {
  owner: 'cdc-worker',
  schema: 'public',
  steps: [
    {
      version: 1,
      name: 'pipeline registry',
      statements: [
        `CREATE TABLE IF NOT EXISTS cdc_pipelines (
          name        text PRIMARY KEY,
          context     text NOT NULL,
          direction   text NOT NULL CHECK (direction IN ('forward', 'reverse')),
          desired     text NOT NULL CHECK (desired IN ('running', 'stopped')),
          updated_at  timestamptz NOT NULL DEFAULT now()
        )`,
      ],
    },
    {
      version: 2,
      name: 'the stage of each context, as the stage service last told it',
      statements: [
        `CREATE TABLE context_stages (
          context     text PRIMARY KEY,
          stage       text NOT NULL,
          percent     integer NOT NULL,
          updated_at  timestamptz NOT NULL DEFAULT now()
        )`,
      ],
    },
    { version: 3, name: 'live workers and their lease sessions', statements: [WORKERS_TABLE] },
  ],
};

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
    const pool = createPool({ connectionString: databaseUrl, max: 2, application_name: 'strangler-cdc-worker' });
    try {
      await migrateOwnedSchema(pool, REGISTRY_SCHEMA);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
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

  async stages(): Promise<{ context: string; stage: Stage; percent: number }[]> {
    const { rows } = await this.pool.query('SELECT context, stage, percent FROM context_stages');
    return rows;
  }

  async setStage(context: string, stage: Stage, percent: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO context_stages (context, stage, percent) VALUES ($1, $2, $3)
       ON CONFLICT (context) DO UPDATE SET stage = EXCLUDED.stage, percent = EXCLUDED.percent, updated_at = now()`,
      [context, stage, percent],
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
