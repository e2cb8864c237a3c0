import type { Outcome } from './client';
import { LatencyHistogram, type LatencySummary } from './latency';

export interface ErrorCount {
  key: string;
  count: number;
  /** The first message seen for this key. */
  message: string;
}

export interface LoadSummary {
  /** `actors`: sticky users the requests act as (`x-user-id`). */
  target: { rps: number; durationSec: number | null; actors: number; contexts: string[] };
  /** Keys per `table.column` the reads could pick from at the end (sampled from the monolith, plus created rows). */
  keys: Record<string, number>;
  /** Routes of the plan the run did not send, each with why. */
  skipped: string[];
  /** Requests whose answer (or failure) came back. */
  requests: number;
  /** Due requests skipped because the in-flight cap was reached (the open loop never waits instead). */
  dropped: number;
  elapsedSec: number;
  achievedRps: number;
  /** `x-strangler-upstream` of each answer; `facade` for the facade's own answers, `none` with no answer. */
  byUpstream: Record<string, number>;
  /** `2xx` … `5xx`, and `network` for requests without an answer. */
  byStatusClass: Record<string, number>;
  byRoute: Record<string, { requests: number; errors: number }>;
  fallbacks: number;
  /** Over answered requests. */
  latencyMs: LatencySummary;
  /** Network errors + 5xx. */
  errors: { total: number; network: number; server: number; top: ErrorCount[] };
}

const TOP_ERRORS = 5;

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Counts of a run, safe to read at any time for the progress line. */
export class LoadStats {
  private readonly upstreams = new Map<string, number>();
  private readonly classes = new Map<string, number>();
  private readonly routes = new Map<string, { requests: number; errors: number }>();
  private readonly errorKeys = new Map<string, ErrorCount>();
  readonly latency = new LatencyHistogram();
  requests = 0;
  fallbacks = 0;
  network = 0;
  server = 0;

  get errors(): number {
    return this.network + this.server;
  }

  record(route: string, o: Outcome): void {
    this.requests += 1;
    bump(this.upstreams, o.upstream);
    bump(this.classes, o.status === null ? 'network' : `${Math.floor(o.status / 100)}xx`);
    if (o.fallback) this.fallbacks += 1;
    if (o.status !== null) this.latency.record(o.latencyMs);
    const r = this.routes.get(route) ?? { requests: 0, errors: 0 };
    r.requests += 1;
    if (o.error) {
      r.errors += 1;
      if (o.status === null) this.network += 1;
      else this.server += 1;
      const e = this.errorKeys.get(o.error.key) ?? { key: o.error.key, count: 0, message: o.error.message };
      e.count += 1;
      this.errorKeys.set(o.error.key, e);
    }
    this.routes.set(route, r);
  }

  summary(extra: Pick<LoadSummary, 'target' | 'keys' | 'skipped' | 'dropped' | 'elapsedSec'>): LoadSummary {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
    return {
      target: extra.target,
      keys: extra.keys,
      skipped: extra.skipped,
      requests: this.requests,
      dropped: extra.dropped,
      elapsedSec: Math.round(extra.elapsedSec * 100) / 100,
      achievedRps: extra.elapsedSec > 0 ? Math.round((this.requests / extra.elapsedSec) * 10) / 10 : 0,
      byUpstream: sorted(this.upstreams),
      byStatusClass: Object.fromEntries([...this.classes].sort((a, b) => a[0].localeCompare(b[0]))),
      byRoute: Object.fromEntries([...this.routes].sort((a, b) => b[1].requests - a[1].requests)),
      fallbacks: this.fallbacks,
      latencyMs: this.latency.summary(),
      errors: {
        total: this.errors,
        network: this.network,
        server: this.server,
        top: [...this.errorKeys.values()].sort((a, b) => b.count - a.count).slice(0, TOP_ERRORS),
      },
    };
  }
}
