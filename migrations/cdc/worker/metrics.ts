import { Counter, Gauge, type Registry } from 'prom-client';
import type { PipelineState, PipelineView } from './worker';

const STATES: PipelineState[] = ['snapshotting', 'streaming', 'retrying', 'stopped', 'error'];
const LABELS = ['pipeline', 'context', 'direction'] as const;

/** The worker's metric names, for the test that checks Grafana queries only what is exported. */
export const CDC_METRICS = [
  'strangler_cdc_pipeline_state',
  'strangler_cdc_lag_milliseconds',
  'strangler_cdc_lag_bytes',
  'strangler_cdc_events_per_second',
  'strangler_cdc_applied_total',
  'strangler_cdc_conflicts_total',
  'strangler_cdc_replayed_total',
  'strangler_cdc_dead_letters_total',
  'strangler_cdc_snapshot_rows',
  'strangler_cdc_snapshot_tables',
] as const;

/**
 * Per-pipeline metrics on the worker's `GET /metrics`, read from the same views as `GET /pipelines` when Prometheus
 * scrapes (one read per scrape, shared by every metric: a view asks Postgres for the slot's lag). The totals are the
 * sink's own counts, exposed as counters: they start at 0 when the worker does, which `rate()` treats as a reset.
 */
export function registerPipelineMetrics(registry: Registry, read: () => Promise<PipelineView[]>): void {
  // A second worker in the same process (tests) takes the names over rather than failing to register them.
  for (const name of CDC_METRICS) registry.removeSingleMetric(name);
  let cached: { at: number; views: Promise<PipelineView[]> } | undefined;
  const views = () => {
    if (!cached || Date.now() - cached.at > 1000) cached = { at: Date.now(), views: read().catch(() => []) };
    return cached.views;
  };
  const labels = (v: PipelineView) => ({ pipeline: v.name, context: v.context, direction: v.direction });
  /** A collect() that refills the metric from the current views (a stopped pipeline's series disappear). */
  const each = <M extends { reset(): void }>(fill: (metric: M, v: PipelineView, l: ReturnType<typeof labels>) => void) =>
    async function (this: M) {
      this.reset();
      for (const v of await views()) fill(this, v, labels(v));
    };
  const gauge = (name: string, help: string, extra: string[], collect: (this: Gauge) => Promise<void>) =>
    new Gauge({ name, help, labelNames: [...LABELS, ...extra], registers: [registry], collect });
  const value = (name: string, help: string, read: (v: PipelineView) => number | null | undefined) =>
    gauge(name, help, [], each<Gauge>((m, v, l) => {
      const x = read(v);
      if (x !== null && x !== undefined) m.set(l, x);
    }));
  const total = (name: string, help: string, read: (v: PipelineView) => number | undefined) =>
    new Counter({ name, help, labelNames: [...LABELS], registers: [registry], collect: each<Counter>((m, v, l) => m.inc(l, read(v) ?? 0)) });

  gauge('strangler_cdc_pipeline_state', 'State of each pipeline: 1 for its current state label, 0 for the others.', ['state'], each<Gauge>((m, v, l) => {
    for (const s of STATES) m.set({ ...l, state: s }, v.state === s ? 1 : 0);
  }));
  value('strangler_cdc_lag_milliseconds', 'Age of the oldest change the sink has not applied yet (0 when caught up).', (v) => v.lagMs);
  value('strangler_cdc_lag_bytes', 'WAL the source\'s replication slot still holds back (bytes not yet confirmed).', (v) => v.lagBytes);
  gauge('strangler_cdc_events_per_second', 'Changes per second over the last few seconds, read by the source and applied by the sink.', ['side'], each<Gauge>((m, v, l) => {
    if (v.source) m.set({ ...l, side: 'source' }, v.source.eventsPerSecond);
    if (v.sink) m.set({ ...l, side: 'sink' }, v.sink.eventsPerSecond);
  }));
  total('strangler_cdc_applied_total', 'Changes the sink applied to the target.', (v) => v.sink?.applied);
  total('strangler_cdc_conflicts_total', 'Changes skipped because the target wrote the same row later (last writer wins).', (v) => v.sink?.conflicts);
  total('strangler_cdc_replayed_total', 'Changes skipped because a later change of the same row was applied already.', (v) => v.sink?.replayed);
  total('strangler_cdc_dead_letters_total', 'Changes the sink could not apply and parked in the dead-letter topic.', (v) => v.sink?.deadLetters);
  value('strangler_cdc_snapshot_rows', 'While snapshotting: rows read from the table being copied.', (v) => v.source?.snapshot?.rows);
  gauge('strangler_cdc_snapshot_tables', 'While snapshotting: tables copied (`done`) and to copy (`total`).', ['of'], each<Gauge>((m, v, l) => {
    const s = v.source?.snapshot;
    if (!s) return;
    m.set({ ...l, of: 'done' }, s.doneTables);
    m.set({ ...l, of: 'total' }, s.totalTables);
  }));
}
