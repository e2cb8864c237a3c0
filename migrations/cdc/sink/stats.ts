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
  /** Per partition with changes not applied yet: when the oldest of them was stamped. */
  private readonly pendingSince = new Map<string, number>();

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

  /**
   * How long the oldest change the sink has not applied yet has been waiting, or 0 when it has applied everything its
   * partitions held at the last fetch: an idle pipeline is not behind, however long ago its last change was. null
   * before anything was applied or seen.
   */
  lagMs(now = Date.now()): number | null {
    let oldest: number | null = null;
    for (const since of this.pendingSince.values()) if (oldest === null || since < oldest) oldest = since;
    if (oldest !== null) return Math.max(0, now - oldest);
    return this.lastSourceTs === null ? null : 0;
  }

  /** Changes of a partition are being applied; `oldestTs` stamps the first of them (the oldest not applied). */
  pending(partitionKey: string, oldestTs: number): void {
    this.pendingSince.set(partitionKey, oldestTs);
  }

  /**
   * The batch is applied. When it did not reach the partition's end, more is waiting: those changes were committed
   * after the last one applied, so its commit time bounds their wait.
   */
  batchDone(partitionKey: string, reachedEnd: boolean): void {
    if (reachedEnd) this.pendingSince.delete(partitionKey);
    else this.pendingSince.set(partitionKey, this.lastSourceTs ?? Date.now());
  }

  private trim(now: number): void {
    while (this.window.length && now - this.window[0].at > this.windowMs) this.window.shift();
  }
}
