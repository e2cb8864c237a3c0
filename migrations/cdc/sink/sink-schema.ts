import type { PoolClient } from 'pg';
import { quoteIdent } from '../mapping';
import { SINK_OFFSETS_DDL, SINK_OFFSETS_UPGRADE } from '../offsets/sink-offsets';
import { migrateOwnedSchema, type OwnedSchema } from '../../../lib/db/schema-migrations';

/**
 * The sink's own state in the target database, schema `strangler_cdc`, never published by a source:
 * - `sink_offsets`: consumed positions (offsets/sink-offsets.ts).
 * - `row_versions`: per target row, when the target's own application last wrote it (`origin` = 'local'; a trigger
 *   stamps it, and sink writes run with session_replication_role = replica, so the trigger skips them). A change
 *   committed at the source before that loses: last writer wins.
 * - `embedded_rows`: per child row folded into a parent's jsonb array, its element and sort value. The parent's array
 *   is rebuilt from it, and a child arriving before its parent waits here until the parent row exists.
 * - `conflicts`: the conflicts settled (conflict-log.ts).
 * - `source_columns`: per pipeline and source table, the columns its last applied change had (source-columns.ts).
 */
export const SINK_SCHEMA: OwnedSchema = {
  owner: 'cdc-sink',
  schema: 'strangler_cdc',
  steps: [
    {
      version: 1,
      // IF NOT EXISTS and the column upgrade: databases made before the ledger already hold some of this.
      name: 'sink offsets, row versions, embedded rows, local-write stamp',
      statements: [
        SINK_OFFSETS_DDL,
        SINK_OFFSETS_UPGRADE,
        `CREATE TABLE IF NOT EXISTS strangler_cdc.row_versions (
           origin     text NOT NULL,
           tbl        text NOT NULL,
           key        jsonb NOT NULL,
           source_ts  bigint NOT NULL,
           PRIMARY KEY (origin, tbl, key)
         )`,
        `CREATE TABLE IF NOT EXISTS strangler_cdc.embedded_rows (
           pipeline     text NOT NULL,
           child_table  text NOT NULL,
           child_key    jsonb NOT NULL,
           parent_key   jsonb NOT NULL,
           sort_value   jsonb,
           element      jsonb NOT NULL,
           -- child_key first: lookups by parent must not be planned on this index (with pipeline and child_table the same
           -- for every row, a planner without statistics took it and filtered the whole table per parent).
           PRIMARY KEY (child_key, child_table, pipeline)
         )`,
        'CREATE INDEX IF NOT EXISTS embedded_rows_parent_idx ON strangler_cdc.embedded_rows (pipeline, child_table, parent_key)',
        // TG_ARGV: the unit's table name, then (key name, column name) pairs; the unit is the row a conflict is judged on.
        `CREATE OR REPLACE FUNCTION strangler_cdc.record_local_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
         DECLARE
           r jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
           k jsonb := '{}'::jsonb;
           i integer;
         BEGIN
           FOR i IN 1 .. (TG_NARGS - 1) / 2 LOOP
             k := k || jsonb_build_object(TG_ARGV[2 * i - 1], r -> TG_ARGV[2 * i]);
           END LOOP;
           INSERT INTO strangler_cdc.row_versions (origin, tbl, key, source_ts)
           VALUES ('local', TG_ARGV[0], k, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
           ON CONFLICT (origin, tbl, key) DO UPDATE SET source_ts = GREATEST(strangler_cdc.row_versions.source_ts, EXCLUDED.source_ts);
           RETURN NULL;
         END
         $fn$`,
      ],
    },
    {
      version: 2,
      name: 'conflicts',
      statements: [
        `CREATE TABLE strangler_cdc.conflicts (
           id            bigserial PRIMARY KEY,
           at            timestamptz NOT NULL DEFAULT now(),
           pipeline      text NOT NULL,
           tbl           text NOT NULL,
           key           jsonb NOT NULL,
           policy        text NOT NULL,
           chosen        text NOT NULL,
           incoming_side text NOT NULL,
           incoming      jsonb,
           source_ts     bigint NOT NULL,
           local         jsonb,
           local_ts      bigint NOT NULL
         )`,
        'CREATE INDEX conflicts_pipeline_newest ON strangler_cdc.conflicts (pipeline, id DESC)',
      ],
    },
    {
      version: 3,
      name: 'source columns',
      statements: [
        `CREATE TABLE strangler_cdc.source_columns (
           pipeline  text NOT NULL,
           tbl       text NOT NULL,
           columns   text[] NOT NULL,
           PRIMARY KEY (pipeline, tbl)
         )`,
      ],
    },
  ],
};

/** The triggers' lock, one for every sink of the cluster: several pipelines may target one table and start together. */
const SCHEMA_LOCK = 0x53434443; // "SCDC"

/** A table whose local writes are stamped, and how its rows name the conflict unit. */
export interface LocalWriteUnit {
  table: string;
  unitTable: string;
  /** unit key name → this table's column. */
  key: Record<string, string>;
}

export async function ensureSinkSchema(client: PoolClient, units: LocalWriteUnit[]): Promise<void> {
  await migrateOwnedSchema(client, SINK_SCHEMA);
  if (!units.length) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    for (const u of units) {
      const args = [u.unitTable, ...Object.entries(u.key).flat()].map((a) => `'${a.replace(/'/g, "''")}'`).join(', ');
      await client.query(
        `CREATE OR REPLACE TRIGGER strangler_cdc_local_write AFTER INSERT OR UPDATE OR DELETE ON public.${quoteIdent(u.table)}
         FOR EACH ROW EXECUTE FUNCTION strangler_cdc.record_local_write(${args})`,
      );
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
