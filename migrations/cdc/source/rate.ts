/** Events per second over the last few whole seconds (the current, partial second is left out). */
export class RateMeter {
  private readonly buckets = new Map<number, number>();

  constructor(private readonly windowSeconds = 5) {}

  add(count: number, now = Date.now()): void {
    const second = Math.floor(now / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + count);
    for (const s of this.buckets.keys()) if (s < second - this.windowSeconds) this.buckets.delete(s);
  }

  perSecond(now = Date.now()): number {
    const current = Math.floor(now / 1000);
    let sum = 0;
    for (const [s, n] of this.buckets) if (s < current && s >= current - this.windowSeconds) sum += n;
    return Math.round(sum / this.windowSeconds);
  }
}
