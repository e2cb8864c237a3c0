/**
 * Failed credentials per client address: a few are mistakes, many are guessing. Past `limit` failures within
 * `windowMs` the address is refused (429 with `Retry-After`) until its oldest failure leaves the window — the right
 * credential included, or guessing would simply go on until it hit.
 */
export class FailureBudget {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: { limit: number; windowMs: number; maxAddresses?: number } = { limit: 10, windowMs: 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const times = this.recent(address);
    if (times.length < this.options.limit) return 0;
    return Math.max(1, Math.ceil((times[0] + this.options.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const times = this.recent(address);
    times.push(this.now());
    this.failures.set(address, times);
    // Bounded memory: forget the longest-quiet addresses first (Map keeps insertion order).
    const max = this.options.maxAddresses ?? 10_000;
    while (this.failures.size > max) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string): number[] {
    const since = this.now() - this.options.windowMs;
    const times = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
