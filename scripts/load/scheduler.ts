/**
 * Open-loop arrivals: request n is due at start + n / rps whatever happened to the earlier ones, so a slow system
 * sees the queue it would see in production instead of a politely slowed-down client (coordinated omission). When
 * the in-flight cap is reached a due request is dropped and counted, never delayed.
 */
export interface SchedulerOptions {
  rps: number;
  /** Stop scheduling after this long; omitted = until `stop()`. */
  durationMs?: number;
  maxInFlight: number;
  /** One request; its promise must settle (the runner turns failures into results). */
  fire(): Promise<void>;
  now?: () => number;
}

export class OpenLoopScheduler {
  private startedAt = 0;
  private scheduled = 0;
  private inFlight = 0;
  private droppedCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private resolveDone!: () => void;
  /** Settles once scheduling has stopped and every in-flight request has finished. */
  readonly done: Promise<void> = new Promise((resolve) => (this.resolveDone = resolve));

  constructor(private readonly options: SchedulerOptions) {}

  private now(): number {
    return (this.options.now ?? performance.now.bind(performance))();
  }

  get sent(): number {
    return this.scheduled - this.droppedCount;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get active(): number {
    return this.inFlight;
  }

  start(): void {
    this.startedAt = this.now();
    this.tick();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    void Promise.allSettled([...this.pending]).then(() => this.resolveDone());
  }

  private tick(): void {
    if (this.stopped) return;
    const { rps, durationMs, maxInFlight } = this.options;
    const elapsed = this.now() - this.startedAt;
    const total = durationMs === undefined ? Infinity : Math.round((durationMs * rps) / 1000);
    // Request n is due at n / rps: the first goes out at once.
    const due = Math.min(Math.floor((elapsed * rps) / 1000) + 1, total);
    while (this.scheduled < due) {
      this.scheduled += 1;
      if (this.inFlight >= maxInFlight) this.droppedCount += 1;
      else this.launch();
    }
    if (durationMs !== undefined && elapsed >= durationMs) {
      this.stop();
      return;
    }
    const nextAt = this.scheduled < total ? this.startedAt + (this.scheduled * 1000) / rps : this.startedAt + durationMs!;
    this.timer = setTimeout(() => this.tick(), Math.max(1, Math.min(nextAt - this.now(), 100)));
  }

  private launch(): void {
    this.inFlight += 1;
    const p = this.options.fire().finally(() => {
      this.inFlight -= 1;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }
}
