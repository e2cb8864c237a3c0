/** Counters behind `status()`; only committed work is counted. */
export class SinkStats {
  applied = 0;
  conflicts = 0;
  replayed = 0;
  deadLetters = 0;
  lastAppliedAt: Date | null = null;
  /** Source commit time of the last applied change. */
  lastSourceTs: number | null = null;
  private readonly window: { at: number; events: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  record(events: number, now = Date.now()): void {
    this.window.push({ at: now, events });
    this.trim(now);
  }

  eventsPerSecond(now = Date.now()): number {
    this.trim(now);
    if (!this.window.length) return 0;
    const total = this.window.reduce((sum, w) => sum + w.events, 0);
    const span = Math.max(1_000, now - this.window[0].at);
    return Math.round((total * 1000) / Math.min(span, this.windowMs));
  }

  lagMs(now = Date.now()): number | null {
    return this.lastSourceTs === null ? null : Math.max(0, now - this.lastSourceTs);
  }

  private trim(now: number): void {
    while (this.window.length && now - this.window[0].at > this.windowMs) this.window.shift();
  }
}
