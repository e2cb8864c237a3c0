import { Client } from 'pg';
import type { PipelineDefinition } from '../../../migrations/cdc/pipeline/definition';
import { startTsChild, type Child } from './children';

const RUNNER = 'test/faults/fixtures/run-cdc.ts';

/** A pipeline half in its own process (see fixtures/run-cdc.ts); resolves once it streams. */
export function startPipelineChild(role: 'source' | 'sink', definition: PipelineDefinition, brokers: string, env: Record<string, string> = {}): Promise<Child> {
  return startTsChild(RUNNER, { CDC_ROLE: role, CDC_DEFINITION: JSON.stringify(definition), KAFKA_BROKERS: brokers, ...env }, { ready: 'ready', timeoutMs: 90_000 });
}

/** WAL the slot still holds: what a source killed now has received or sent but not confirmed. */
export async function slotLagBytes(definition: PipelineDefinition): Promise<number> {
  const db = new Client({ connectionString: definition.source.databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ lag: string | null }>(
      'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
      [definition.slot],
    );
    return Number(rows[0]?.lag ?? 0);
  } finally {
    await db.end();
  }
}
