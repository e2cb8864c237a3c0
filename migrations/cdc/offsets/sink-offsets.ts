import type { PoolClient } from 'pg';

/**
 * The sink's consumed positions, kept in the TARGET database and written in the same transaction as the rows they
 * produced: after a crash the rows and the position agree, whatever Kafka's committed group offset says. Kafka
 * redelivers from its (possibly older) committed offset and everything at or below the stored one is skipped, which
 * makes delivery exactly-once in effect without a seek.
 */
export const SINK_OFFSETS_DDL = `
  CREATE TABLE IF NOT EXISTS strangler_cdc.sink_offsets (
    pipeline    text NOT NULL,
    topic       text NOT NULL,
    "partition" integer NOT NULL,
    "offset"    bigint NOT NULL,
    -- Commit-order position (sink/position.ts) of the latest change applied from this partition: a change below it
    -- is a repeat (a source resuming after a crash re-sends what was in flight) and is skipped.
    position    numeric,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline, topic, "partition")
  )`;

/** Columns added after the table's first version, for databases that have the older one. */
export const SINK_OFFSETS_UPGRADE = 'ALTER TABLE strangler_cdc.sink_offsets ADD COLUMN IF NOT EXISTS position numeric';

export interface PartitionMark {
  offset: bigint;
  /** null before the first change with a known position. */
  position: bigint | null;
}

/**
 * Locks the partition's row for the rest of the transaction and returns what it holds: a second sink instance handed
 * the same partition during a rebalance waits here, then sees what the first one applied. One statement: the
 * no-op update takes the row lock and returns the row, new or not.
 */
export async function lockSinkOffset(client: PoolClient, pipeline: string, topic: string, partition: number): Promise<PartitionMark> {
  const { rows } = await client.query<{ offset: string; position: string | null }>(
    `INSERT INTO strangler_cdc.sink_offsets AS o (pipeline, topic, "partition", "offset") VALUES ($1, $2, $3, -1)
     ON CONFLICT (pipeline, topic, "partition") DO UPDATE SET "offset" = o."offset"
     RETURNING o."offset", o.position`,
    [pipeline, topic, partition],
  );
  return { offset: BigInt(rows[0].offset), position: rows[0].position === null ? null : BigInt(rows[0].position) };
}

export async function saveSinkOffset(client: PoolClient, pipeline: string, topic: string, partition: number, mark: PartitionMark): Promise<void> {
  await client.query(
    `UPDATE strangler_cdc.sink_offsets SET "offset" = $4, position = $5, updated_at = now() WHERE pipeline = $1 AND topic = $2 AND "partition" = $3`,
    [pipeline, topic, partition, mark.offset.toString(), mark.position === null ? null : mark.position.toString()],
  );
}

export interface StoredOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export async function readSinkOffsets(client: Pick<PoolClient, 'query'>, pipeline: string): Promise<StoredOffset[]> {
  const { rows } = await client.query<{ topic: string; partition: number; offset: string }>(
    `SELECT topic, "partition", "offset" FROM strangler_cdc.sink_offsets WHERE pipeline = $1 ORDER BY topic, "partition"`,
    [pipeline],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: BigInt(r.offset) }));
}
