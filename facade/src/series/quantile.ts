/** A cumulative histogram as Prometheus keeps it: `counts[i]` observations ≤ `bounds[i]`, the last bound +Inf. */
export interface Histogram {
  bounds: number[];
  counts: number[];
}

/** Observations made between two readings of the same histogram (a counter reset counts from zero). */
export function histogramDelta(now: Histogram, before: Histogram | undefined): Histogram {
  if (!before || before.bounds.length !== now.bounds.length) return now;
  const reset = now.counts.some((c, i) => c < before.counts[i]);
  return reset ? now : { bounds: now.bounds, counts: now.counts.map((c, i) => c - before.counts[i]) };
}

/**
 * The q-quantile the way Prometheus's `histogram_quantile` estimates it (linear within the bucket it falls in), so
 * the dashboard's p99 and Grafana's agree for the same requests. Null without observations; a quantile in the +Inf
 * bucket is the highest finite bound.
 */
export function histogramQuantile(q: number, h: Histogram): number | null {
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < h.counts.length; i++) {
    if (h.counts[i] < rank) continue;
    const upper = h.bounds[i];
    if (!Number.isFinite(upper)) return h.bounds[i - 1] ?? null;
    const lower = i === 0 ? 0 : h.bounds[i - 1];
    const below = i === 0 ? 0 : h.counts[i - 1];
    const inBucket = h.counts[i] - below;
    return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return h.bounds[h.bounds.length - 2] ?? null;
}
