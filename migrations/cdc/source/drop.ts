import { Client } from 'pg';
import { deleteSourceOffsets } from '../offsets/source-offsets';
import type { PipelineDefinition } from '../pipeline/definition';
import { quoteIdent } from '../pg/connection';
import { dropSlot } from './setup';

/**
 * Resets a pipeline's source: drops its replication slot, its publication and its offsets row, so the next start
 * takes a new snapshot. A source still running on the slot is terminated: a reset means its position is thrown
 * away. Kafka topics are left alone (consumers may still be reading them). Idempotent.
 */
export async function dropPipelineSource(definition: PipelineDefinition): Promise<void> {
  const client = new Client({ connectionString: definition.source.databaseUrl, application_name: `strangler-reset-${definition.name}` });
  await client.connect();
  try {
    await dropSlot(client, definition.slot, { waitMs: 5_000, terminateActive: true });
    await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(definition.publication)}`);
    await deleteSourceOffsets(client, definition.name);
  } finally {
    await client.end();
  }
}
