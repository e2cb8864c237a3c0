/**
 * Latency percentiles in constant memory: a run at 5000 rps for an hour is 18 M samples, too many to keep. Buckets
 * grow geometrically (1 % apart), so any percentile is within 1 % of the true value, from 1 µs to hours.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_MS = 0.001;

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const index = Math.ceil(Math.log(v / MIN_MS) / LOG_GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.total += 1;
    if (v > this.maxMs) this.maxMs = v;
  }

  get count(): number {
    return this.total;
  }

  /** The smallest recorded value that at least `p` (0–1) of the samples do not exceed; 0 with no samples. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      // A bucket's upper bound can overshoot the largest sample; the maximum is exact, so cap at it.
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** index, this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { p50: round(this.percentile(0.5)), p95: round(this.percentile(0.95)), p99: round(this.percentile(0.99)), max: round(this.maxMs) };
  }
}
