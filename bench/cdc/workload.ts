import type { Client } from 'pg';
import { HEARTBEAT_PREFIX, parseLsn } from '../../migrations/cdc/source';
import type { PipelineHost } from './host';
import type { PipelineStatus } from './host-protocol';

/**
 * Monolith users in one transaction, like a batch job or a data fix would write them. Emails carry `prefix` so
 * each phase's rows stay unique under the service's unique index.
 */
export async function insertUsers(db: Client, rows: number, prefix: string): Promise<{ seconds: number }> {
  const began = performance.now();
  await db.query(
    `INSERT INTO users (email, name) SELECT $1 || g || '@example.com', 'User ' || $1 || ' ' || g FROM generate_series(1, $2::int) g`,
    [prefix, rows],
  );
  return { seconds: (performance.now() - began) / 1000 };
}

/**
 * A heartbeat message after the changes: its LSN is past their commit, and our source confirms it once everything
 * before it is in Kafka (how the CDC worker's read-your-writes sync works), so "acknowledged ≥ this" means "all in
 * Kafka". pg_recvlogical stops at the same LSN.
 */
export async function endMarker(db: Client): Promise<string> {
  const { rows } = await db.query<{ lsn: string }>('SELECT pg_logical_emit_message(false, $1, $2)::text AS lsn', [HEARTBEAT_PREFIX, 'bench']);
  // A non-transactional message is not flushed by itself, and nothing decodes past the flushed WAL: a transaction
  // with an xid, committed synchronously (see connectWriter), flushes everything before it on any Postgres version.
  await db.query('SELECT txid_current()');
  return rows[0].lsn;
}

export async function countRows(db: Client, where = 'true', values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE ${where}`, values);
  return rows[0].n;
}

export const ackedPast = (lsn: string) => (s: PipelineStatus) => s.source?.lastAckedLsn != null && parseLsn(s.source.lastAckedLsn) >= parseLsn(lsn);

/** Moves while the source reads or delivers anything. */
export const sourceProgress = (s: PipelineStatus) =>
  [s.source?.lastReceivedLsn, s.source?.lastAckedLsn].reduce((sum, lsn) => sum + (lsn ? Number(parseLsn(lsn)) : 0), 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls a pipeline until `done`, returning the moment it was seen done (performance.now()). Fails on a pipeline
 * error, or when `progress` has not moved for `stallMs`: a stuck pipeline must not hang the bench.
 */
export async function waitForPipeline(
  host: PipelineHost,
  name: string,
  done: (s: PipelineStatus) => boolean,
  progress: (s: PipelineStatus) => number,
  options: { intervalMs?: number; stallMs?: number } = {},
): Promise<{ at: number; status: PipelineStatus }> {
  const interval = options.intervalMs ?? 25;
  const stallMs = options.stallMs ?? 60_000;
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const status = await host.status(name);
    const at = performance.now();
    if (done(status)) return { at, status };
    for (const [half, s] of [['source', status.source], ['sink', status.sink]] as const) {
      if (s?.state === 'error') throw new Error(`${half} of ${name} failed: ${s.error ?? 'no reason given'}`);
    }
    const p = progress(status);
    if (p !== last) {
      last = p;
      movedAt = at;
    } else if (at - movedAt > stallMs) {
      throw new Error(`${name} made no progress for ${Math.round(stallMs / 1000)} s (source ${status.source?.state}, acked ${status.source?.lastAckedLsn}; sink ${status.sink?.state ?? '–'}, applied ${status.sink?.applied ?? '–'})`);
    }
    await sleep(interval);
  }
}
