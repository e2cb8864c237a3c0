import { recordFallback as recordFallbackMetric } from '../metrics/metrics';

/**
 * Service outcomes per context in a sliding window of one-second buckets: the error rate the canary → cutover gate
 * and the automatic rollback look at. Counting is O(1) per request; reading sums at most `windowSeconds` buckets.
 */
export class ServiceOutcomes {
  private readonly windows = new Map<string, { second: number; ok: number; failed: number }[]>();
  private readonly totals = new Map<string, { ok: number; failed: number }>();

  constructor(private readonly windowSeconds = 300) {}

  /** Bumped by every reset: a request routed before it is no evidence about the window after it. */
  private readonly epochs = new Map<string, number>();

  /** The window a request routed now belongs to: give it back to `record` when the request ends. */
  epoch(context: string): number {
    return this.epochs.get(context) ?? 0;
  }

  record(context: string, ok: boolean, epoch = this.epoch(context)): void {
    const total = this.totals.get(context) ?? { ok: 0, failed: 0 };
    if (ok) total.ok += 1;
    else total.failed += 1;
    this.totals.set(context, total);
    // Routed at the stage before a move (a request to a dead service that fails after the rollback): it counted
    // against that stage, not the one the window now watches.
    if (epoch !== this.epoch(context)) return;
    const now = Math.floor(Date.now() / 1000);
    let buckets = this.windows.get(context);
    if (!buckets) {
      buckets = [];
      this.windows.set(context, buckets);
    }
    let last = buckets[buckets.length - 1];
    if (!last || last.second !== now) {
      last = { second: now, ok: 0, failed: 0 };
      buckets.push(last);
      while (buckets.length > 0 && buckets[0].second <= now - this.windowSeconds) buckets.shift();
    }
    if (ok) last.ok += 1;
    else last.failed += 1;
  }

  /** Requests and failures (5xx, timeouts, refused connections) over the last `seconds`. */
  window(context: string, seconds: number): { requests: number; failed: number; errorRate: number } {
    const since = Math.floor(Date.now() / 1000) - seconds;
    let ok = 0;
    let failed = 0;
    for (const b of this.windows.get(context) ?? []) {
      if (b.second > since) {
        ok += b.ok;
        failed += b.failed;
      }
    }
    const requests = ok + failed;
    return { requests, failed, errorRate: requests === 0 ? 0 : failed / requests };
  }

  total(context: string): { requests: number; failed: number; errorRate: number } {
    const t = this.totals.get(context) ?? { ok: 0, failed: 0 };
    const requests = t.ok + t.failed;
    return { requests, failed: t.failed, errorRate: requests === 0 ? 0 : t.failed / requests };
  }

  private readonly fallbacks = new Map<string, number>();
  private readonly fallbackCounts = new Map<string, number>();

  /** A read served by the monolith because the service could not: the retired gate waits for these to stop. */
  recordFallback(context: string): void {
    this.fallbacks.set(context, Date.now());
    this.fallbackCounts.set(context, (this.fallbackCounts.get(context) ?? 0) + 1);
    recordFallbackMetric(context);
  }

  /** Fallbacks since the facade started (a running total, for the series). */
  fallbackCount(context: string): number {
    return this.fallbackCounts.get(context) ?? 0;
  }

  lastFallbackAt(context: string): string | null {
    const at = this.fallbacks.get(context);
    return at === undefined ? null : new Date(at).toISOString();
  }

  /** Forget a context's window, e.g. after a rollback, so the next decision sees only new traffic. */
  reset(context: string): void {
    this.windows.delete(context);
    this.epochs.set(context, this.epoch(context) + 1);
  }
}
