import type { Stage } from '../../../control/plan';
import type { PipelineStatus } from '../../../control/stages/cdc-client';
import { histogramDelta, histogramQuantile, type Histogram } from './quantile';
import type { RequestTotals } from './registry-totals';

/** One bucket of a context's series: what happened in the `resolutionSeconds` that end at `at`. */
export interface SeriesPoint {
  at: string;
  /** Where the context stood at the end of the bucket: stage moves show as a change between two points. */
  stage: Stage;
  percent: number;
  requests: RequestTotals;
  /** service / (monolith + service); null without requests. */
  serviceShare: number | null;
  shadow: { compared: number; diffs: number; errors: number; diffRate: number | null };
  /** Requests the service answered (or failed: 5xx, timeouts, refused, breaker open) and their latency. */
  service: { requests: number; failed: number; errorRate: number | null; p50Ms: number | null; p99Ms: number | null };
  /** Reads served by the monolith because the service could not. */
  fallbacks: number;
  /** At the end of the bucket; null when the pipeline does not run or no CDC worker answered. */
  pipelines: { forward: PipelinePoint | null; reverse: PipelinePoint | null };
}

export interface PipelinePoint {
  state: PipelineStatus['state'];
  lagMs: number | null;
}

/** Where the numbers come from: running totals, read once per bucket. */
export interface SeriesSources {
  contexts: readonly string[];
  stage(context: string): { stage: Stage; percent: number };
  requests(): Promise<Map<string, RequestTotals>>;
  latency(): Promise<Map<string, Histogram>>;
  shadow(): Promise<Record<string, { compared: number; diffs: number; errors: number }>>;
  service(context: string): { requests: number; failed: number };
  fallbacks(context: string): number;
  /** The CDC worker's pipelines; undefined when the facade knows no worker. */
  pipelines?(): Promise<PipelineStatus[]>;
}

interface Totals {
  requests: RequestTotals;
  latency: Histogram | undefined;
  shadow: { compared: number; diffs: number; errors: number };
  service: { requests: number; failed: number };
  fallbacks: number;
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
// A running total only goes down when it was reset (diffs reset, a fresh registry): count from zero then.
const delta = (now: number, before: number | undefined) => (before === undefined || now < before ? now : now - before);
const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 100_000) / 100);

/**
 * Time series per context, kept in the facade whether or not anyone looks: a timer reads the running totals every
 * `resolutionSeconds` (on the wall clock's multiples, so replicas' buckets line up) and stores the differences.
 * Memory is bounded: `retentionSeconds / resolutionSeconds` points per context (2160 at 10 s for 6 h, ~1 MB in all).
 */
export class SeriesRecorder {
  private readonly points = new Map<string, SeriesPoint[]>();
  private last: Map<string, Totals> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  readonly capacity: number;

  constructor(
    private readonly sources: SeriesSources,
    readonly resolutionSeconds = 10,
    readonly retentionSeconds = 6 * 3600,
    private readonly now: () => number = Date.now,
  ) {
    this.capacity = Math.ceil(retentionSeconds / resolutionSeconds);
    for (const c of sources.contexts) this.points.set(c, []);
  }

  /** Takes the baseline now, then a point at every multiple of the resolution. */
  async start(): Promise<void> {
    await this.sample();
    const step = this.resolutionSeconds * 1000;
    const arm = () => {
      this.timer = setTimeout(() => {
        void this.sample().finally(() => {
          if (this.timer) arm();
        });
      }, step - (this.now() % step));
      this.timer.unref();
    };
    arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  has(context: string): boolean {
    return this.points.has(context);
  }

  /** Points whose bucket ended after `sinceMs`, oldest first. */
  series(context: string, sinceMs = Number.NEGATIVE_INFINITY): SeriesPoint[] {
    const all = this.points.get(context) ?? [];
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Date.parse(all[mid].at) <= sinceMs) lo = mid + 1;
      else hi = mid;
    }
    return all.slice(lo);
  }

  /** Reads every source once and appends a point per context (the first call only takes the baseline). Never throws. */
  sample(): Promise<void> {
    // A slow CDC worker must not make two samples overlap and count a bucket twice.
    this.sampling ??= this.sampleOnce().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async sampleOnce(): Promise<void> {
    const { sources } = this;
    const [requests, latency, shadow, pipelines] = await Promise.all([
      sources.requests().catch(() => new Map<string, RequestTotals>()),
      sources.latency().catch(() => new Map<string, Histogram>()),
      sources.shadow().catch(() => ({}) as Record<string, { compared: number; diffs: number; errors: number }>),
      sources.pipelines ? sources.pipelines().catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const step = this.resolutionSeconds * 1000;
    // Stamped with the bucket's end on the clock's grid, even if the timer fired a little late.
    const at = new Date(Math.round(this.now() / step) * step).toISOString();
    const totals = new Map<string, Totals>();
    for (const context of sources.contexts) {
      const now: Totals = {
        requests: requests.get(context) ?? { monolith: 0, service: 0, facade: 0 },
        latency: latency.get(context),
        shadow: shadow[context] ?? { compared: 0, diffs: 0, errors: 0 },
        service: sources.service(context),
        fallbacks: sources.fallbacks(context),
      };
      totals.set(context, now);
      if (this.last) this.append(context, this.point(context, at, now, this.last.get(context), pipelines));
    }
    this.last = totals;
  }

  private point(context: string, at: string, now: Totals, before: Totals | undefined, pipelines: PipelineStatus[] | undefined): SeriesPoint {
    const requests = {
      monolith: delta(now.requests.monolith, before?.requests.monolith),
      service: delta(now.requests.service, before?.requests.service),
      facade: delta(now.requests.facade, before?.requests.facade),
    };
    const shadow = {
      compared: delta(now.shadow.compared, before?.shadow.compared),
      diffs: delta(now.shadow.diffs, before?.shadow.diffs),
      errors: delta(now.shadow.errors, before?.shadow.errors),
    };
    const service = { requests: delta(now.service.requests, before?.service.requests), failed: delta(now.service.failed, before?.service.failed) };
    const latency = now.latency ? histogramDelta(now.latency, before?.latency) : undefined;
    const pipe = (direction: string): PipelinePoint | null => {
      const p = pipelines?.find((x) => x.name === `${context}-${direction}`);
      return p ? { state: p.state, lagMs: p.lagMs } : null;
    };
    return {
      at,
      ...this.sources.stage(context),
      requests,
      serviceShare: ratio(requests.service, requests.monolith + requests.service),
      shadow: { ...shadow, diffRate: ratio(shadow.diffs + shadow.errors, shadow.compared) },
      service: {
        ...service,
        errorRate: ratio(service.failed, service.requests),
        p50Ms: latency ? ms(histogramQuantile(0.5, latency)) : null,
        p99Ms: latency ? ms(histogramQuantile(0.99, latency)) : null,
      },
      fallbacks: delta(now.fallbacks, before?.fallbacks),
      pipelines: { forward: pipe('forward'), reverse: pipe('reverse') },
    };
  }

  private append(context: string, point: SeriesPoint): void {
    const list = this.points.get(context)!;
    list.push(point);
    if (list.length > this.capacity) list.splice(0, list.length - this.capacity);
  }
}
