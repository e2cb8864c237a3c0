import { Client } from 'pg';
import type { ConflictEntry, Side } from '../../../control/contracts';
import type { ConflictPolicy } from '../../../control/plan';

interface ConflictRow {
  id: string;
  at: Date;
  pipeline: string;
  tbl: string;
  key: Record<string, unknown>;
  policy: ConflictPolicy;
  chosen: Side;
  incoming_side: Side;
  incoming: Record<string, unknown> | null;
  source_ts: string;
  local: Record<string, unknown> | null;
  local_ts: string;
}

const iso = (ms: string) => new Date(Number(ms)).toISOString();

/** The conflicts a pipeline's sink recorded in its target (`strangler_cdc.conflicts`), newest first. */
export async function readConflicts(targetUrl: string, pipeline: string, limit: number): Promise<ConflictEntry[]> {
  const client = new Client({ connectionString: targetUrl, application_name: 'strangler-conflicts' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    // A sink that never started in this database made no table: no conflicts.
    const { rows: exists } = await client.query<{ ok: boolean }>("SELECT to_regclass('strangler_cdc.conflicts') IS NOT NULL AS ok");
    if (!exists[0].ok) return [];
    const { rows } = await client.query<ConflictRow>(
      `SELECT id::text, at, pipeline, tbl, key, policy, chosen, incoming_side, incoming, source_ts::text, local, local_ts::text
       FROM strangler_cdc.conflicts WHERE pipeline = $1 ORDER BY id DESC LIMIT $2`,
      [pipeline, limit],
    );
    const other = (s: Side): Side => (s === 'monolith' ? 'service' : 'monolith');
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      pipeline: r.pipeline,
      table: r.tbl,
      key: r.key,
      policy: r.policy,
      chosen: r.chosen,
      incoming: { side: r.incoming_side, row: r.incoming, committedAt: iso(r.source_ts) },
      local: { side: other(r.incoming_side), row: r.local, writtenAt: iso(r.local_ts) },
    }));
  } finally {
    await client.end().catch(() => undefined);
  }
}
