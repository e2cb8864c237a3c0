import type { Client, Notification } from 'pg';

const CHANNEL = 'bench_cdc_applied';

/**
 * Tells the bench when sink writes become visible: a statement trigger on the service table that NOTIFYs the
 * highest id it inserted. Postgres delivers a NOTIFY at commit, so its arrival is the moment the rows were
 * applied. ENABLE ALWAYS because the sink writes in replica mode, where ordinary triggers stay silent. It costs one
 * notification per sink statement, not per row.
 */
export async function installAppliedProbe(service: Client): Promise<void> {
  await service.query(`
    CREATE OR REPLACE FUNCTION bench_cdc_applied() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE top int;
    BEGIN
      SELECT max(id) INTO top FROM bench_new_rows;
      IF top IS NOT NULL THEN PERFORM pg_notify('${CHANNEL}', top::text); END IF;
      RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS bench_cdc_applied ON users;
    CREATE TRIGGER bench_cdc_applied AFTER INSERT ON users REFERENCING NEW TABLE AS bench_new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION bench_cdc_applied();
    ALTER TABLE users ENABLE ALWAYS TRIGGER bench_cdc_applied;`);
}

export async function removeAppliedProbe(service: Client): Promise<void> {
  await service.query('DROP TRIGGER IF EXISTS bench_cdc_applied ON users; DROP FUNCTION IF EXISTS bench_cdc_applied()');
}

export interface LagOptions {
  /** The monolith writer's connection, and a service connection that LISTENs (neither used for anything else). */
  writer: Client;
  listener: Client;
  rate: number;
  rowsPerTx: number;
  /** Starts every email and name the load writes, so two loads on one table never collide on the unique email. */
  label: string;
  warmupSeconds: number;
  seconds: number;
  /** How long the last transactions may take to arrive after writing stopped before they count as lost. */
  drainMs?: number;
  /** Called when the warm-up ends, so CPU and load are taken over the measured window only. */
  onWindowStart?: () => Promise<void>;
  log: (line: string) => void;
}

export interface LagResult {
  /** Commit → applied, ms, one per transaction of the measured window, sorted. */
  latencies: number[];
  /** Transactions of the window never seen applied within the drain time. */
  lost: number;
  rows: number;
  seconds: number;
  /** Transactions that started late because the previous one had not returned (the writer fell behind). */
  late: number;
  /** The measured transactions on the wall clock (ms since the epoch), to set against Kafka's record timestamps. */
  transactions: { maxId: number; committedMs: number; appliedMs: number | null }[];
}

interface Tx {
  maxId: number;
  committedAt: number;
  committedMs: number;
  measured: boolean;
  appliedAt?: number;
  appliedMs?: number;
}

/**
 * A steady, open-loop write load on the monolith: every rowsPerTx / rate seconds one transaction of rowsPerTx rows,
 * on schedule whatever the pipeline does. One connection writes, so transactions commit in id order and a
 * notification of id N means every transaction up to N is applied (the sink applies a partition in order).
 * Latency = NOTIFY received − the writer's COMMIT returned, both on this process's monotonic clock.
 */
export async function measureLag(o: LagOptions): Promise<LagResult> {
  const txs: Tx[] = [];
  let resolved = 0;
  let highest = -Infinity;
  let highestAt = 0;
  let highestMs = 0;
  const settle = () => {
    for (; resolved < txs.length && txs[resolved].maxId <= highest; resolved++) {
      // The notification may be read before the writer's COMMIT answer (two sockets, one event loop; seen at load 20
      // for the last transaction, which then counted as lost): applied no later than committed, as far as we can see.
      txs[resolved].appliedAt = Math.max(highestAt, txs[resolved].committedAt);
      txs[resolved].appliedMs = Math.max(highestMs, txs[resolved].committedMs);
    }
  };
  const onNotify = (n: Notification) => {
    const top = Number(n.payload);
    if (top > highest) {
      highest = top;
      highestAt = performance.now();
      highestMs = Date.now();
    }
    settle();
  };
  o.listener.on('notification', onNotify);
  await o.listener.query(`LISTEN ${CHANNEL}`);
  try {
    const periodMs = (1000 * o.rowsPerTx) / o.rate;
    const total = Math.round(((o.warmupSeconds + o.seconds) * 1000) / periodMs);
    const warmupTx = Math.round((o.warmupSeconds * 1000) / periodMs);
    const started = performance.now();
    let late = 0;
    let windowStart = started;
    for (let k = 0; k < total; k++) {
      const due = started + k * periodMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (k > 0 && -wait > periodMs) late++;
      if (k === warmupTx) {
        await o.onWindowStart?.();
        windowStart = performance.now();
      }
      const { rows } = await o.writer.query<{ id: number }>(
        `WITH ins AS (INSERT INTO users (email, name) SELECT $3::text || $1::int || '.' || g || '@example.com', 'User ' || $3::text || ' ' || $1::int || '.' || g
           FROM generate_series(1, $2::int) g RETURNING id) SELECT max(id)::int AS id FROM ins`,
        [k, o.rowsPerTx, o.label],
      );
      txs.push({ maxId: rows[0].id, committedAt: performance.now(), committedMs: Date.now(), measured: k >= warmupTx });
      settle();
    }
    const seconds = (performance.now() - windowStart) / 1000;
    const deadline = performance.now() + (o.drainMs ?? 30_000);
    while (resolved < txs.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const measured = txs.filter((t) => t.measured);
    const latencies = measured.filter((t) => t.appliedAt !== undefined).map((t) => t.appliedAt! - t.committedAt).sort((a, b) => a - b);
    const lost = measured.length - latencies.length;
    if (lost) o.log(`lag: ${lost} transactions not applied within ${(o.drainMs ?? 30_000) / 1000} s of the end`);
    const transactions = measured.map((t) => ({ maxId: t.maxId, committedMs: t.committedMs, appliedMs: t.appliedMs ?? null }));
    return { latencies, lost, rows: measured.length * o.rowsPerTx, seconds, late, transactions };
  } finally {
    o.listener.off('notification', onNotify);
    await o.listener.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
