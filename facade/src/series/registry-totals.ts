import { registry } from '../../../lib/http/metrics';
import type { Histogram } from './quantile';

/**
 * Running totals read back from the facade's own Prometheus metrics (facade/src/metrics.ts), so the charts, the live
 * split and Grafana all count the same requests. Read every few seconds, never per request.
 */
export interface RequestTotals {
  /** Answered by the monolith (fallbacks included: that is who answered). */
  monolith: number;
  /** Answered by the context's own service. */
  service: number;
  /** Answered by the facade itself (503 with the breaker open, 413, …). */
  facade: number;
}

export const REQUESTS_METRIC = 'strangler_facade_requests_total';
export const LATENCY_METRIC = 'strangler_facade_request_duration_seconds';

/** Per context, from `strangler_facade_requests_total{context,upstream,status}`. */
export async function requestTotals(): Promise<Map<string, RequestTotals>> {
  const totals = new Map<string, RequestTotals>();
  const metric = registry.getSingleMetric(REQUESTS_METRIC);
  if (!metric) return totals;
  for (const v of (await metric.get()).values) {
    const context = String(v.labels.context ?? '');
    const upstream = String(v.labels.upstream ?? '');
    if (!context || context === 'none') continue;
    const side = upstream === 'monolith' ? 'monolith' : upstream === context ? 'service' : 'facade';
    const t = totals.get(context) ?? { monolith: 0, service: 0, facade: 0 };
    t[side] += v.value;
    totals.set(context, t);
  }
  return totals;
}

/** Per context, the latency histogram of the requests its service answered (`upstream` = the context). */
export async function serviceLatency(): Promise<Map<string, Histogram>> {
  const byContext = new Map<string, Map<number, number>>();
  const metric = registry.getSingleMetric(LATENCY_METRIC);
  if (!metric) return new Map();
  for (const v of (await metric.get()).values as { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[]) {
    if (v.metricName !== `${LATENCY_METRIC}_bucket` || v.labels.upstream !== v.labels.context) continue;
    const context = String(v.labels.context);
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    const buckets = byContext.get(context) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + v.value);
    byContext.set(context, buckets);
  }
  const out = new Map<string, Histogram>();
  for (const [context, buckets] of byContext) {
    const bounds = [...buckets.keys()].sort((a, b) => a - b);
    out.set(context, { bounds, counts: bounds.map((b) => buckets.get(b)!) });
  }
  return out;
}
