import { Client } from 'pg';
import { createLogger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import { topicFor } from '../../../migrations/cdc/events/envelope';
import { readSinkOffsets } from '../../../migrations/cdc/offsets/sink-offsets';
import type { PipelineDefinition } from '../../../migrations/cdc/pipeline/definition';
import { reconcile, type ReconcileResult } from '../../../migrations/reconcile';
import { eventually } from '../../harness/eventually';
import type { CdcBed } from './cdc-bed';

export interface Counts {
  missing: number;
  extra: number;
  different: number;
  sourceRows: number;
  targetRows: number;
}

export function countsOf(result: ReconcileResult): Counts {
  const t = result.tables.reduce(
    (acc, x) => ({
      missing: acc.missing + x.missingCount,
      extra: acc.extra + x.extraCount,
      different: acc.different + x.differentCount,
      sourceRows: acc.sourceRows + x.sourceRows,
      targetRows: acc.targetRows + x.targetRows,
    }),
    { missing: 0, extra: 0, different: 0, sourceRows: 0, targetRows: 0 },
  );
  return t;
}

/** What the audit trigger saw the sink do that a correct sink never does. */
export interface AuditFindings {
  /** Row images (id, full_name) written more than once: a change applied twice. */
  appliedTwice: { id: number; full_name: string; times: number }[];
  /** Rows written again after their delete was applied: an older change replayed over a newer one. */
  resurrected: { id: number }[];
  /** How many writes the sink made in all (inserts + updates + deletes). */
  writes: number;
}

export async function auditFindings(definition: PipelineDefinition): Promise<AuditFindings> {
  const db = new Client({ connectionString: definition.target.databaseUrl });
  await db.connect();
  try {
    const twice = await db.query<{ id: number; full_name: string; times: string }>(
      `SELECT id, full_name, count(*) AS times FROM fault_audit WHERE op IN ('i', 'u') GROUP BY id, full_name HAVING count(*) > 1 ORDER BY id LIMIT 20`,
    );
    const resurrected = await db.query<{ id: number }>(
      `SELECT DISTINCT w.id FROM fault_audit d JOIN fault_audit w ON w.id = d.id AND w.seq > d.seq AND w.op IN ('i', 'u') WHERE d.op = 'd' LIMIT 20`,
    );
    const writes = await db.query<{ n: string }>('SELECT count(*) AS n FROM fault_audit');
    return {
      appliedTwice: twice.rows.map((r) => ({ ...r, times: Number(r.times) })),
      resurrected: resurrected.rows,
      writes: Number(writes.rows[0].n),
    };
  } finally {
    await db.end();
  }
}

/** Kafka end offsets of the pipeline's topics against the offsets the sink stored with what it applied. */
async function unconsumed(definition: PipelineDefinition, brokers: string): Promise<string[]> {
  const messaging = createMessaging({ brokers, clientId: 'fault-converge', logger: createLogger('fault', 'silent') });
  const db = new Client({ connectionString: definition.target.databaseUrl });
  await db.connect();
  try {
    const stored = await readSinkOffsets(db, definition.name);
    const behind: string[] = [];
    for (const table of definition.source.tables) {
      const topic = topicFor(definition.topicPrefix, 'public', table);
      for (const end of await messaging.admin.endOffsets(topic)) {
        const s = stored.find((x) => x.topic === topic && x.partition === end.partition);
        const last = BigInt(end.offset) - 1n;
        if (last >= 0n && (s === undefined || s.offset < last)) behind.push(`${topic}[${end.partition}] stored ${s?.offset ?? 'none'} < ${last}`);
      }
    }
    return behind;
  } finally {
    await db.end();
    await messaging.disconnect();
  }
}

export interface Converged {
  result: ReconcileResult;
  counts: Counts;
  audit: AuditFindings;
  /** From the call until the target matched the source. */
  waitedMs: number;
}

/**
 * Waits until reconcile finds the target equal to the source (rows in flight are not differences), then checks
 * that the sink consumed everything Kafka holds and that the audit saw no change applied twice and no row brought
 * back after its delete. Asserts all of it; returns the figures for the report.
 */
export async function expectConverged(bed: Pick<CdcBed, 'definition' | 'brokers'>, timeoutMs = 90_000): Promise<Converged> {
  const started = Date.now();
  let result!: ReconcileResult;
  await eventually(
    async () => {
      result = await reconcile({ definition: bed.definition, limit: 5 });
      expect(result.clean).toBe(true);
    },
    timeoutMs,
    1_000,
  ).catch(() => undefined);
  const waitedMs = Date.now() - started;
  const counts = countsOf(result);
  // The assertion the scenario is about: the same shape in every file, so a failure reads the same everywhere.
  expect({ missing: counts.missing, extra: counts.extra, different: counts.different, rowsEqual: counts.sourceRows === counts.targetRows }).toEqual({
    missing: 0,
    extra: 0,
    different: 0,
    rowsEqual: true,
  });
  await eventually(async () => expect(await unconsumed(bed.definition, bed.brokers)).toEqual([]), 15_000, 500);
  const audit = await auditFindings(bed.definition);
  expect({ appliedTwice: audit.appliedTwice, resurrected: audit.resurrected }).toEqual({ appliedTwice: [], resurrected: [] });
  return { result, counts, audit, waitedMs };
}
