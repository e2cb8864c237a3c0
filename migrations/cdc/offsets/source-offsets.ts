import type { Queryable } from '../pg/catalog';
import { formatLsn, parseLsn, type Lsn } from '../pg/lsn';
import type { OwnedSchema } from '../../../lib/db/schema-migrations';

/**
 * What a source remembers besides its replication slot, kept on the SOURCE database next to the slot it describes
 * (a reset drops both together): whether the initial snapshot finished. The slot's confirmed_flush_lsn is the
 * streaming position; nothing here duplicates it.
 */
export interface SourceOffsets {
  pipeline: string;
  slot: string;
  snapshotCompleted: boolean;
  /** The slot's consistent point: streaming starts right after the snapshot's view. */
  snapshotLsn: Lsn | null;
  /** The tables the snapshot read; a table added to the pipeline later was never snapshotted. */
  tables: string[];
}

export const OFFSETS_SCHEMA = 'strangler_cdc';
export const OFFSETS_TABLE = `${OFFSETS_SCHEMA}.source_offsets`;

/** Step 1 says IF NOT EXISTS because databases made before the ledger already hold the table. */
export const SOURCE_OFFSETS_SCHEMA: OwnedSchema = {
  owner: 'cdc-source',
  schema: OFFSETS_SCHEMA,
  steps: [
    {
      version: 1,
      name: 'source offsets',
      statements: [
        `CREATE TABLE IF NOT EXISTS ${OFFSETS_TABLE} (
           pipeline              text PRIMARY KEY,
           slot                  text NOT NULL,
           snapshot_completed    boolean NOT NULL DEFAULT false,
           snapshot_lsn          pg_lsn,
           tables                text[] NOT NULL DEFAULT '{}',
           snapshot_started_at   timestamptz,
           snapshot_completed_at timestamptz
         )`,
      ],
    },
  ],
};

interface OffsetsRow {
  pipeline: string;
  slot: string;
  snapshot_completed: boolean;
  snapshot_lsn: string | null;
  tables: string[];
}

export async function readSourceOffsets(db: Queryable, pipeline: string): Promise<SourceOffsets | null> {
  const { rows } = await db.query<OffsetsRow>(
    `SELECT pipeline, slot, snapshot_completed, snapshot_lsn::text AS snapshot_lsn, tables FROM ${OFFSETS_TABLE} WHERE pipeline = $1`,
    [pipeline],
  );
  if (!rows.length) return null;
  const r = rows[0];
  return {
    pipeline: r.pipeline,
    slot: r.slot,
    snapshotCompleted: r.snapshot_completed,
    snapshotLsn: r.snapshot_lsn ? parseLsn(r.snapshot_lsn) : null,
    tables: r.tables,
  };
}

/** Written before the slot is created, so a crash at any later point is seen as "snapshot not finished". */
export async function markSnapshotStarted(db: Queryable, pipeline: string, slot: string, tables: string[]): Promise<void> {
  await db.query(
    `INSERT INTO ${OFFSETS_TABLE} (pipeline, slot, snapshot_completed, snapshot_lsn, tables, snapshot_started_at)
     VALUES ($1, $2, false, NULL, $3, now())
     ON CONFLICT (pipeline) DO UPDATE
       SET slot = EXCLUDED.slot, snapshot_completed = false, snapshot_lsn = NULL, tables = EXCLUDED.tables,
           snapshot_started_at = now(), snapshot_completed_at = NULL`,
    [pipeline, slot, tables],
  );
}

export async function markSnapshotCompleted(db: Queryable, pipeline: string, lsn: Lsn): Promise<void> {
  await db.query(
    `UPDATE ${OFFSETS_TABLE} SET snapshot_completed = true, snapshot_lsn = $2::pg_lsn, snapshot_completed_at = now() WHERE pipeline = $1`,
    [pipeline, formatLsn(lsn)],
  );
}

export async function deleteSourceOffsets(db: Queryable, pipeline: string): Promise<void> {
  const { rows } = await db.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [OFFSETS_TABLE]);
  if (rows[0]?.exists) await db.query(`DELETE FROM ${OFFSETS_TABLE} WHERE pipeline = $1`, [pipeline]);
}
