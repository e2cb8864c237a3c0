import { registry } from '../../../lib/http/metrics';

/** Requests per context answered by each side, as running totals. */
export type TrafficTotals = Map<string, { monolith: number; service: number }>;

export interface ContextTraffic {
  monolith: number;
  service: number;
  /** The service's share of the answered requests, 0–1; null when there were none. */
  serviceShare: number | null;
}

export interface TrafficReport {
  /** How many seconds the counts cover: the window, or less just after the facade started. */
  seconds: number;
  windowSeconds: number;
  contexts: Record<string, ContextTraffic>;
}

const REQUESTS_METRIC = 'strangler_facade_requests_total';

/**
 * Totals from the facade's own request counter (`context`, `upstream`, `status` labels): the monolith side is
 * `upstream="monolith"` (fallbacks included — that is who answered), the service side is the context's own name.
 */
export async function requestTotals(): Promise<TrafficTotals> {
  const totals: TrafficTotals = new Map();
  const metric = registry.getSingleMetric(REQUESTS_METRIC);
  if (!metric) return totals;
  const { values } = await metric.get();
  for (const v of values) {
    const context = String(v.labels.context ?? '');
    const upstream = String(v.labels.upstream ?? '');
    if (!context || context === 'none') continue;
    const side = upstream === 'monolith' ? 'monolith' : upstream === context ? 'service' : undefined;
    if (!side) continue;
    const t = totals.get(context) ?? { monolith: 0, service: 0 };
    t[side] += v.value;
    totals.set(context, t);
  }
  return totals;
}

/**
 * Live traffic split over a sliding window, without a timer: each read stores a sample of the running totals and
 * subtracts the newest sample that is at least a window old. A dashboard polling every second keeps it precise;
 * nobody polling costs nothing.
 */
export class TrafficWindow {
  private samples: { at: number; totals: TrafficTotals }[] = [];

  constructor(
    private readonly read: () => Promise<TrafficTotals> = requestTotals,
    readonly windowSeconds = 30,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts for every context that has answered a request since the facade started; the others are zero. */
  async report(): Promise<TrafficReport> {
    const at = this.now();
    const totals = await this.read();
    const last = this.samples[this.samples.length - 1];
    // Several tabs polling at once must not grow the list: at most one stored sample per 250 ms.
    if (!last || at - last.at >= 250) this.samples.push({ at, totals });
    const horizon = at - this.windowSeconds * 1000;
    while (this.samples.length > 1 && this.samples[1].at <= horizon) this.samples.shift();
    const base = this.samples[0];

    const report: TrafficReport = { seconds: Math.round((at - base.at) / 1000), windowSeconds: this.windowSeconds, contexts: {} };
    for (const name of totals.keys()) {
      const now = totals.get(name) ?? { monolith: 0, service: 0 };
      const then = base.totals.get(name) ?? { monolith: 0, service: 0 };
      // A counter only goes down when the registry was reset: count from zero rather than show negatives.
      const monolith = Math.max(0, now.monolith - then.monolith);
      const service = Math.max(0, now.service - then.service);
      report.contexts[name] = { monolith, service, serviceShare: monolith + service === 0 ? null : service / (monolith + service) };
    }
    return report;
  }
}
