import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { sleep } from './children';

export interface BurstShape {
  /** Per transaction. Every change of a row writes a new `name` (`v<version>`), so each row image is unique. */
  inserts: number;
  updates: number;
  deletes: number;
}

export const DEFAULT_SHAPE: BurstShape = { inserts: 30, updates: 60, deletes: 10 };

/**
 * A stream of committed changes on the monolith's `users` table — inserts, updates and deletes in multi-row
 * transactions — written as fast as `changesPerSecond` allows. It keeps the set of live rows and their versions, so
 * every update writes a row image that never existed before: the service side's audit can then tell an image that
 * was applied twice (a duplicate side effect) from one applied once.
 */
export class ChangeBurst {
  readonly tag = randomBytes(3).toString('hex');
  private live: number[] = [];
  private readonly versions = new Map<number, number>();
  private inserted = 0;
  private running: Promise<void> | null = null;
  private stopRequested = false;
  private lastError: unknown = null;
  changes = 0;
  transactions = 0;
  /** Transactions that failed (the monolith database itself is never the target of a fault here: must stay 0). */
  failures = 0;

  constructor(private readonly db: Pool) {}

  async seed(rows: number): Promise<void> {
    const { rows: ids } = await this.db.query<{ id: number }>(
      `INSERT INTO users (email, name) SELECT 'seed-' || $1 || '-' || g || '@example.com', 'v0' FROM generate_series(1, $2::int) g RETURNING id`,
      [this.tag, rows],
    );
    for (const { id } of ids) this.track(id);
  }

  /** Writes until `stop()` (or until `total` changes, when given) at about `changesPerSecond`. */
  start(changesPerSecond: number, total = Number.POSITIVE_INFINITY, shape: BurstShape = DEFAULT_SHAPE): void {
    if (this.running) throw new Error('burst already running');
    this.stopRequested = false;
    const perTx = shape.inserts + shape.updates + shape.deletes;
    const interval = (1000 * perTx) / changesPerSecond;
    this.running = (async () => {
      let next = Date.now();
      while (!this.stopRequested && this.changes < total) {
        try {
          await this.transaction(shape);
        } catch (err) {
          this.failures += 1;
          this.lastError = err;
        }
        next += interval;
        const wait = next - Date.now();
        if (wait > 0) await sleep(wait);
        else next = Date.now();
      }
    })();
  }

  /** Resolves once at least `changes` changes are committed. */
  async reached(changes: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.changes < changes) {
      if (Date.now() > deadline) throw new Error(`burst stuck at ${this.changes} of ${changes} changes (last error: ${String(this.lastError)})`);
      if (!this.running) throw new Error(`burst is not running (at ${this.changes} of ${changes} changes)`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
    this.running = null;
  }

  /** One transaction of the given shape, outside any running burst; resolves with the changes it committed. */
  async once(shape: BurstShape = DEFAULT_SHAPE): Promise<number> {
    const before = this.changes;
    await this.transaction(shape);
    return this.changes - before;
  }

  /** Rows alive in the monolith now, by id, with the version of their latest image. */
  get liveRows(): number {
    return this.live.length;
  }

  private track(id: number, version = 0): void {
    this.live.push(id);
    this.versions.set(id, version);
  }

  private async transaction(shape: BurstShape): Promise<void> {
    const picked = new Set<number>();
    const want = Math.min(shape.updates + shape.deletes, this.live.length);
    while (picked.size < want) picked.add(this.live[Math.floor(Math.random() * this.live.length)]);
    const ids = [...picked];
    const updates = ids.slice(0, Math.min(shape.updates, ids.length));
    const deletes = ids.slice(updates.length);
    const names = updates.map((id) => `v${this.versions.get(id)! + 1}`);
    const first = this.inserted + 1;
    const client = await this.db.connect();
    let newIds: number[];
    try {
      await client.query('BEGIN');
      // The statements in a random order: whatever kind of change ends a transaction (or a Kafka batch) must survive
      // a crash right after it.
      let newRows: { id: number }[] = [];
      let touched = 0;
      const steps = [
        async () => {
          const r = await client.query<{ id: number }>(
            `INSERT INTO users (email, name) SELECT 'b-' || $1 || '-' || g || '@example.com', 'v0' FROM generate_series($2::int, $3::int) g RETURNING id`,
            [this.tag, first, first + shape.inserts - 1],
          );
          newRows = r.rows;
        },
        async () => {
          const r = await client.query(
            'UPDATE users u SET name = v.name, updated_at = clock_timestamp() FROM unnest($1::int[], $2::text[]) AS v(id, name) WHERE u.id = v.id',
            [updates, names],
          );
          touched += r.rowCount ?? 0;
        },
        async () => {
          const r = await client.query('DELETE FROM users WHERE id = ANY($1::int[])', [deletes]);
          touched += r.rowCount ?? 0;
        },
      ];
      for (const step of steps.sort(() => Math.random() - 0.5)) await step();
      await client.query('COMMIT');
      newIds = newRows.map((r) => r.id);
      this.changes += newIds.length + touched;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    this.inserted += shape.inserts;
    this.transactions += 1;
    updates.forEach((id, i) => this.versions.set(id, Number(names[i].slice(1))));
    const gone = new Set(deletes);
    this.live = this.live.filter((id) => !gone.has(id));
    for (const id of gone) this.versions.delete(id);
    for (const id of newIds) this.track(id);
  }
}
