import { Pool } from 'pg';
import { createPool } from '../../../lib/db/pool';
import type { Logger } from '../../../lib/logger';
import { DIFF_SCHEMA } from './diff-schema';
import { migrateOwnedSchema } from '../../../lib/db/schema-migrations';
import type { DiffEntry } from './compare';
import type { DiffRow } from './diff-rows';
import { groupDiffs, type DiffGroups } from './diff-groups';

export interface StoredDiff extends Required<DiffRow> {
  id: string;
  createdAt: string;
}

export type Outcome = 'matched' | 'diff' | 'error';

export interface Counts {
  /** Every shadow comparison with a known outcome: matched + diffs + errors. */
  compared: number;
  matched: number;
  diffs: number;
  /** The service failed (connection, timeout): nothing to compare, and certainly not a match. */
  errors: number;
  /** Comparisons in which learned noise was hidden. */
  noise: number;
  /** Share of comparisons that did not match, errors included: (diffs + errors) / compared, 0 when none. */
  diffRate: number;
}

export interface ContextCounts extends Counts {
  routes: Record<string, Counts>;
}

export interface DiffStoreOptions {
  flushIntervalMs?: number;
  batchSize?: number;
  /** Rows kept in memory while the database is slow or down; the oldest are dropped beyond it. */
  maxBuffer?: number;
  /** Rows kept in the table; older ones are pruned now and then. */
  maxRows?: number;
  poolSize?: number;
  connectionTimeoutMillis?: number;
}

export interface DiffStoreHealth {
  ready: boolean;
  buffered: number;
  dropped: number;
  lastError?: string;
}

export class DiffStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the shadow diff database is unavailable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DiffStoreUnavailableError';
  }
}

type CounterFields = Omit<Counts, 'diffRate'>;
const zero = (): CounterFields => ({ compared: 0, matched: 0, diffs: 0, errors: 0, noise: 0 });
const KEY_SEP = '\u0000';

function withRate(c: CounterFields): Counts {
  return { ...c, diffRate: c.compared ? (c.diffs + c.errors) / c.compared : 0 };
}

function add(into: CounterFields, from: CounterFields): void {
  into.compared += from.compared;
  into.matched += from.matched;
  into.diffs += from.diffs;
  into.errors += from.errors;
  into.noise += from.noise;
}

/** Postgres refuses NUL in text and jsonb; an escaped NUL (an even number of backslashes before it) becomes U+FFFD. */
function stripNul(json: string): string {
  return json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
}

function clip(s: string | null | undefined, max: number): string | null {
  if (s === null || s === undefined) return null;
  return s.length > max ? s.slice(0, max) : s;
}

/** Data errors (class 22, 23): retrying the same rows cannot succeed, so the batch is dropped rather than stuck. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

interface Buffered {
  row: DiffRow;
  createdAt: Date;
}

/**
 * Shadow diffs and counts in the facade's own database. `record` and `count` never block or throw: rows are
 * buffered and written in batches; while the database is down the buffer keeps the newest rows and counts keep
 * accumulating in memory until a flush succeeds.
 */
export class DiffStore {
  private readonly buffer: Buffered[] = [];
  private readonly totals = new Map<string, CounterFields>();
  private pendingCounts = new Map<string, CounterFields>();
  private readonly timer: NodeJS.Timeout;
  private tail: Promise<void> = Promise.resolve();
  private busy = 0;
  private ready = false;
  private countsLoaded = false;
  private closed = false;
  private failures = 0;
  private retryAt = 0;
  private dropped = 0;
  private lastError?: string;
  private lastPrune = 0;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBuffer: number;
  private readonly maxRows: number;

  private constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    options: DiffStoreOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.batchSize = options.batchSize ?? 100;
    this.maxBuffer = options.maxBuffer ?? 10_000;
    this.maxRows = options.maxRows ?? 100_000;
    this.timer = setInterval(() => this.tick(), this.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Connects and creates the tables if missing. An unreachable database does not fail the facade's start: the
   * store keeps buffering and retries, and `health()` says so.
   */
  static async open(databaseUrl: string, logger: Logger, options: DiffStoreOptions = {}): Promise<DiffStore> {
    const pool = createPool(
      {
        connectionString: databaseUrl,
        max: options.poolSize ?? 2,
        connectionTimeoutMillis: options.connectionTimeoutMillis ?? 3000,
        idleTimeoutMillis: 10_000,
        query_timeout: 10_000,
        application_name: 'strangler-facade-shadow',
      },
      (err) => logger.warn({ err: err.message }, 'shadow diff database connection lost'),
    );
    const store = new DiffStore(pool, logger, options);
    await store.flush();
    return store;
  }

  record(row: DiffRow): void {
    if (this.closed) return;
    this.buffer.push({ row, createdAt: new Date() });
    if (this.buffer.length > this.maxBuffer) {
      this.buffer.shift();
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.logger.warn({ dropped: this.dropped, lastError: this.lastError }, 'shadow diff buffer full: dropping the oldest diffs');
      }
    }
    if (this.buffer.length >= this.batchSize && this.busy === 0 && Date.now() >= this.retryAt) void this.flush(false);
  }

  /** One shadow comparison of a plan route; `noise` when learned noise was hidden in it. */
  count(context: string, route: string, outcome: Outcome, noise = false): void {
    const key = `${context}${KEY_SEP}${route}`;
    const delta: CounterFields = {
      compared: 1,
      matched: outcome === 'matched' ? 1 : 0,
      diffs: outcome === 'diff' ? 1 : 0,
      errors: outcome === 'error' ? 1 : 0,
      noise: noise ? 1 : 0,
    };
    for (const map of [this.totals, this.pendingCounts]) {
      let c = map.get(key);
      if (!c) map.set(key, (c = zero()));
      add(c, delta);
    }
  }

  /** Per context (summed over its routes, which are listed inside); from memory, so it answers while the database is down. */
  async counts(): Promise<{ contexts: Record<string, ContextCounts> }> {
    const contexts: Record<string, ContextCounts> = {};
    const sums = new Map<string, CounterFields>();
    for (const [key, c] of this.totals) {
      const [context, route] = key.split(KEY_SEP);
      let sum = sums.get(context);
      if (!sum) sums.set(context, (sum = zero()));
      add(sum, c);
      (contexts[context] ??= { ...withRate(zero()), routes: {} }).routes[route] = withRate(c);
    }
    for (const [context, sum] of sums) Object.assign(contexts[context], withRate(sum));
    return { contexts };
  }

  /** Newest first. Flushes what is buffered first, so a diff recorded a moment ago is listed. */
  async list(query: { context?: string; limit?: number } = {}): Promise<StoredDiff[]> {
    await this.flush();
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50) || 50, 1), 1000);
    try {
      const { rows } = await this.pool.query(
        `SELECT id::text AS id, context, route, method, path, request_id, monolith_status, service_status, diffs, ignored, noise,
                created_at
           FROM shadow_diffs
          WHERE ($1::text IS NULL OR context = $1)
          ORDER BY created_at DESC, id DESC
          LIMIT $2`,
        [query.context ?? null, limit],
      );
      return rows.map((r) => ({
        id: r.id as string,
        context: r.context as string,
        route: r.route as string,
        method: r.method as string,
        path: r.path as string,
        requestId: r.request_id as string | null,
        monolithStatus: r.monolith_status as number | null,
        serviceStatus: r.service_status as number | null,
        diffs: r.diffs as DiffEntry[],
        ignored: r.ignored as string[],
        noise: r.noise as string[],
        createdAt: (r.created_at as Date).toISOString(),
      }));
    } catch (err) {
      throw new DiffStoreUnavailableError(err);
    }
  }

  /** Stored diffs of a context grouped by route and JSON path (see `groupDiffs`). */
  async groups(context: string, options: { examples: number; limit: number }): Promise<DiffGroups> {
    await this.flush();
    const counts = (await this.counts()).contexts[context];
    try {
      return await groupDiffs(this.pool, context, counts, options);
    } catch (err) {
      throw new DiffStoreUnavailableError(err);
    }
  }

  /**
   * Forgets a context's diffs and counts (after the service was fixed, or when a workshop starts over), so the diff
   * rate the canary gate reads describes the service as it is now.
   */
  async reset(context: string): Promise<void> {
    await this.flush();
    const prefix = `${context}${KEY_SEP}`;
    for (const map of [this.totals, this.pendingCounts]) for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    for (let i = this.buffer.length - 1; i >= 0; i--) if (this.buffer[i].row.context === context) this.buffer.splice(i, 1);
    try {
      await this.pool.query('DELETE FROM shadow_counts WHERE context = $1', [context]);
      await this.pool.query('DELETE FROM shadow_diffs WHERE context = $1', [context]);
    } catch (err) {
      throw new DiffStoreUnavailableError(err);
    }
  }

  health(): DiffStoreHealth {
    return { ready: this.ready, buffered: this.buffer.length, dropped: this.dropped, lastError: this.lastError };
  }

  /** Writes what is buffered now (one attempt, whatever the retry back-off says). Never throws. */
  flush(force = true): Promise<void> {
    this.busy++;
    const run = this.tail.then(() => this.flushOnce(force)).finally(() => this.busy--);
    this.tail = run;
    return run;
  }

  /** Flushes and disconnects; later records are ignored. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    if (this.buffer.length) this.logger.warn({ lost: this.buffer.length }, 'shadow diffs not written before close');
    await this.pool.end().catch(() => undefined);
  }

  private tick(): void {
    if (this.busy > 0 || this.closed || Date.now() < this.retryAt) return;
    if (this.buffer.length === 0 && this.pendingCounts.size === 0 && this.ready) {
      return;
    }
    void this.flush(false);
  }

  private async flushOnce(force: boolean): Promise<void> {
    if (this.closed || (!force && Date.now() < this.retryAt)) return;
    try {
      if (!this.ready) await this.init();
      await this.writeCounts();
      // Bounded per pass so one flush cannot hold the connection for long; the timer comes back for the rest.
      for (let i = 0; i < 20 && this.buffer.length; i++) await this.writeBatch();
      await this.prune();
      if (this.failures) this.logger.info({ buffered: this.buffer.length }, 'shadow diff database reachable again');
      this.failures = 0;
      this.retryAt = 0;
      this.lastError = undefined;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.retryAt = Date.now() + Math.min(5000, this.flushIntervalMs * 2 ** Math.min(this.failures, 5));
      if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3D000') this.ready = false;
      if (this.failures === 1 || this.failures % 20 === 0) {
        this.logger.warn({ err: this.lastError, buffered: this.buffer.length, failures: this.failures }, 'shadow diff database write failed');
      }
    }
  }

  private async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      const applied = await migrateOwnedSchema(client, DIFF_SCHEMA);
      if (applied.length) this.logger.info({ versions: applied }, 'shadow diff schema migrated');
      if (!this.countsLoaded) {
        // What the database holds plus what was counted before it was reachable (still pending, so not in it).
        const { rows } = await client.query('SELECT context, route, compared, matched, diffs, errors, noise FROM shadow_counts');
        for (const r of rows) {
          const key = `${r.context}${KEY_SEP}${r.route}`;
          const stored: CounterFields = {
            compared: Number(r.compared),
            matched: Number(r.matched),
            diffs: Number(r.diffs),
            errors: Number(r.errors),
            noise: Number(r.noise),
          };
          let c = this.totals.get(key);
          if (!c) this.totals.set(key, (c = zero()));
          add(c, stored);
        }
        this.countsLoaded = true;
      }
      this.ready = true;
    } finally {
      client.release();
    }
  }

  private async writeCounts(): Promise<void> {
    if (this.pendingCounts.size === 0) return;
    const pending = this.pendingCounts;
    this.pendingCounts = new Map();
    const rows = [...pending].map(([key, c]) => {
      const [context, route] = key.split(KEY_SEP);
      return { context, route, ...c };
    });
    try {
      await this.pool.query(
        `INSERT INTO shadow_counts AS c (context, route, compared, matched, diffs, errors, noise)
         SELECT context, route, compared, matched, diffs, errors, noise
           FROM jsonb_to_recordset($1::jsonb)
             AS r(context text, route text, compared bigint, matched bigint, diffs bigint, errors bigint, noise bigint)
         ON CONFLICT (context, route) DO UPDATE SET
           compared = c.compared + EXCLUDED.compared,
           matched = c.matched + EXCLUDED.matched,
           diffs = c.diffs + EXCLUDED.diffs,
           errors = c.errors + EXCLUDED.errors,
           noise = c.noise + EXCLUDED.noise,
           updated_at = now()`,
        [stripNul(JSON.stringify(rows))],
      );
    } catch (err) {
      // Put the increments back (merged with any made meanwhile): counts are few and must not be lost.
      for (const [key, c] of pending) {
        const now = this.pendingCounts.get(key);
        if (now) add(now, c);
        else this.pendingCounts.set(key, c);
      }
      throw err;
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.buffer.splice(0, this.batchSize);
    const payload = batch.map(({ row, createdAt }, ord) => ({
      ord,
      context: clip(row.context, 200),
      route: clip(row.route, 500),
      method: clip(row.method, 20),
      path: clip(row.path, 2000),
      request_id: clip(row.requestId, 200),
      monolith_status: row.monolithStatus ?? null,
      service_status: row.serviceStatus ?? null,
      diffs: row.diffs,
      ignored: row.ignored ?? [],
      noise: row.noise ?? [],
      created_at: createdAt.toISOString(),
    }));
    try {
      await this.pool.query(
        `INSERT INTO shadow_diffs (context, route, method, path, request_id, monolith_status, service_status, diffs, ignored, noise, created_at)
         SELECT context, route, method, path, request_id, monolith_status, service_status, diffs, ignored, noise, created_at
           FROM jsonb_to_recordset($1::jsonb)
             AS r(ord integer, context text, route text, method text, path text, request_id text, monolith_status integer,
                  service_status integer, diffs jsonb, ignored jsonb, noise jsonb, created_at timestamptz)
          ORDER BY ord`,
        [stripNul(JSON.stringify(payload))],
      );
    } catch (err) {
      if (isDataError(err)) {
        this.dropped += batch.length;
        this.logger.error({ err: (err as Error).message, rows: batch.length }, 'shadow diffs rejected by the database: batch dropped');
        return;
      }
      // Back at the front, newest kept if the buffer overflowed meanwhile.
      this.buffer.unshift(...batch);
      const over = this.buffer.length - this.maxBuffer;
      if (over > 0) {
        this.buffer.splice(0, over);
        this.dropped += over;
      }
      throw err;
    }
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    await this.pool.query(
      `DELETE FROM shadow_diffs WHERE id <= (SELECT id FROM shadow_diffs ORDER BY id DESC OFFSET $1 LIMIT 1)`,
      [this.maxRows],
    );
  }
}
