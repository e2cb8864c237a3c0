import { createHash } from 'node:crypto';
import { Client, type Pool } from 'pg';
import type { Logger } from '../../../lib/logger';

/**
 * The advisory-lock key of a pipeline: the first 8 bytes of a SHA-256 of its name, as Postgres' signed bigint. Every
 * worker computes the same key from the same name, whatever its version or platform; the prefix keeps the toolkit's
 * keys apart from advisory locks an application might take in the same database.
 */
export function leaseKey(pipeline: string): bigint {
  return createHash('sha256').update(`strangler.cdc.pipeline:${pipeline}`).digest().readBigInt64BE(0);
}

/** pg_locks shows a bigint advisory key as two oids: the high 32 bits in `classid`, the low in `objid`. */
export function lockIds(key: bigint): { classid: string; objid: string } {
  const unsigned = BigInt.asUintN(64, key);
  return { classid: String(unsigned >> 32n), objid: String(unsigned & 0xffffffffn) };
}

/**
 * One worker's leases: a Postgres session of its own in the toolkit's database, holding one session-level advisory
 * lock per pipeline this worker runs. The locks live exactly as long as the session, and the session as long as the
 * worker's process: a SIGKILLed or crashed worker's connection is cut by the kernel, the server ends the session and
 * every lock it held is free at once for a standby to take. A session that ends while the worker lives (a database
 * restart, a terminated backend) is reported through `onLost`: the worker must stop what it ran, since another
 * worker may take those pipelines from then on.
 */
export class LeaseSession {
  private readonly held = new Set<string>();
  private lost = false;

  private constructor(
    private readonly client: Client,
    readonly backendPid: number,
  ) {}

  static async open(databaseUrl: string, workerId: string, logger: Logger, onLost: (why: string) => void): Promise<LeaseSession> {
    const client = new Client({
      connectionString: databaseUrl,
      application_name: 'strangler-cdc-lease',
      // A peer that vanished without closing (a partitioned host) is noticed by TCP keepalives, not only by the kernel.
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
    });
    let session: LeaseSession | undefined;
    const end = (why: string) => {
      if (!session || session.lost) return;
      session.lost = true;
      logger.warn({ why, leases: [...session.held] }, 'lease session lost: stopping the pipelines it held');
      session.held.clear();
      onLost(why);
    };
    client.on('error', (err) => end(err.message));
    client.on('end', () => end('connection ended'));
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      session = new LeaseSession(client, rows[0].pid);
      // Which worker holds a lock is read from pg_locks (the lock's pid) joined with this row. A pid the server reuses
      // later belongs to this row only: older rows that named it are cleared.
      await client.query(
        // A worker back under the same id runs nothing yet: what its previous process published is void.
        `INSERT INTO cdc_workers (id, lease_pid, started_at, seen_at) VALUES ($1, $2, now(), now())
         ON CONFLICT (id) DO UPDATE SET lease_pid = EXCLUDED.lease_pid, started_at = now(), seen_at = now(), views = NULL`,
        [workerId, session.backendPid],
      );
      await client.query('UPDATE cdc_workers SET lease_pid = NULL WHERE lease_pid = $1 AND id <> $2', [session.backendPid, workerId]);
      return session;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  get alive(): boolean {
    return !this.lost;
  }

  holds(pipeline: string): boolean {
    return this.held.has(pipeline);
  }

  /** Takes the pipeline's lock if no other session holds it; never waits. */
  async tryAcquire(pipeline: string): Promise<boolean> {
    if (this.held.has(pipeline)) return true;
    const { rows } = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [leaseKey(pipeline).toString()]);
    if (rows[0].ok) this.held.add(pipeline);
    return rows[0].ok;
  }

  async release(pipeline: string): Promise<void> {
    if (!this.held.delete(pipeline)) return;
    await this.client.query('SELECT pg_advisory_unlock($1::bigint)', [leaseKey(pipeline).toString()]).catch(() => undefined);
  }

  /** What other workers read about this one: its pipelines' latest views, and that it is alive. */
  async publish(views: unknown[]): Promise<void> {
    await this.client.query('UPDATE cdc_workers SET seen_at = now(), views = $2::jsonb WHERE lease_pid = $1', [this.backendPid, JSON.stringify(views)]);
  }

  /** Ends the session, which frees every lock it holds. */
  async close(): Promise<void> {
    this.lost = true;
    this.held.clear();
    await this.client.end().catch(() => undefined);
  }
}

export interface LiveWorker {
  id: string;
  startedAt: string;
  seenAt: string;
  /** The views of the pipelines it runs, as it last published them (every poll). */
  views: unknown[];
}

export interface LeaseTable {
  /** Pipeline name → id of the worker whose session holds its lock now. */
  holders: Map<string, string>;
  /** Workers whose lease session is open now, the ones holding nothing included (the standbys). */
  workers: LiveWorker[];
}

/**
 * Who holds what, from the server's own lock table: a dead worker's rows stay in `cdc_workers` but its session is
 * gone from pg_stat_activity and its locks from pg_locks, so it is neither listed nor named as a holder.
 */
export async function readLeases(pool: Pool, pipelines: string[]): Promise<LeaseTable> {
  const ids = pipelines.map((name) => ({ name, ...lockIds(leaseKey(name)) }));
  const [locks, workers] = await Promise.all([
    pool.query<{ name: string; worker: string }>(
      `SELECT p.name, w.id AS worker
         FROM jsonb_to_recordset($1::jsonb) AS p(name text, classid text, objid text)
         JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                        AND l.classid::int8 = p.classid::int8 AND l.objid::int8 = p.objid::int8
                        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         JOIN cdc_workers w ON w.lease_pid = l.pid`,
      [JSON.stringify(ids)],
    ),
    pool.query<{ id: string; started_at: Date; seen_at: Date; views: unknown[] | null }>(
      `SELECT w.id, w.started_at, w.seen_at, w.views FROM cdc_workers w
         JOIN pg_stat_activity a ON a.pid = w.lease_pid AND a.application_name = 'strangler-cdc-lease'
        ORDER BY w.id`,
    ),
  ]);
  return {
    holders: new Map(locks.rows.map((r) => [r.name, r.worker])),
    workers: workers.rows.map((w) => ({ id: w.id, startedAt: w.started_at.toISOString(), seenAt: w.seen_at.toISOString(), views: w.views ?? [] })),
  };
}

export const WORKERS_TABLE = `
  CREATE TABLE IF NOT EXISTS cdc_workers (
    id          text PRIMARY KEY,
    lease_pid   integer,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    views       jsonb
  )`;
