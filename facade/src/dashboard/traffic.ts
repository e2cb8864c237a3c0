import { requestTotals } from '../series/registry-totals';

/** Requests per context answered by each side, as running totals. */
export type TrafficTotals = Map<string, { monolith: number; service: number }>;

export interface ContextTraffic {
  monolith: number;
  service: number;
  /** The seconds these counts cover: the window, or less when the context changed stage within it. */
  seconds: number;
  /** The counts start at the context's last stage change (so a split never mixes two stages). */
  sinceStageChange: boolean;
  /** The service's share of the answered requests, 0–1; null when there were none. */
  serviceShare: number | null;
}

export interface TrafficReport {
  /** How many seconds the counts cover: the window, or less just after the facade started. */
  seconds: number;
  windowSeconds: number;
  contexts: Record<string, ContextTraffic>;
}

interface Sample {
  at: number;
  totals: TrafficTotals;
  stages: Map<string, string>;
}

/**
 * Live traffic split over a fixed window, from the facade's own request counter: a server-side timer samples the
 * running totals every second, and a report subtracts the newest sample that is at least a window old. It used to
 * sample only when a page asked, so after a quiet spell the "window" reached back across stage changes (canary 50 %
 * showed 11 %); now it is the last `windowSeconds` whether or not a page is open. Each sample also notes every
 * context's stage, and a context's counts start no earlier than its last stage change: right after cutover the split
 * reads 100 % service, not a mix with the canary's last half minute.
 */
export class TrafficWindow {
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly read: () => Promise<TrafficTotals> = requestTotals,
    readonly windowSeconds = 30,
    private readonly now: () => number = Date.now,
    /** Where a context stands (e.g. `canary:50`); without it the window is never cut at a stage change. */
    private readonly stageOf: (context: string) => string = () => '',
  ) {}

  /** Samples every `everyMs` until `stop()`; the first sample is the baseline. */
  start(everyMs = 1000): void {
    if (this.timer) return;
    void this.report().catch(() => undefined);
    this.timer = setInterval(() => void this.report().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Counts for every context that has answered a request since the facade started; the others are zero. */
  async report(): Promise<TrafficReport> {
    const at = this.now();
    const totals = await this.read();
    const stages = new Map([...totals.keys()].map((name) => [name, this.stageOf(name)]));
    // Two reads that crossed (a page's and the timer's) must keep the list in time order.
    if (this.samples.length && at < this.samples[this.samples.length - 1].at) return this.compute(at, totals, stages);
    const last = this.samples[this.samples.length - 1];
    // Several tabs polling at once must not grow the list: at most one stored sample per 250 ms.
    if (!last || at - last.at >= 250) this.samples.push({ at, totals, stages });
    const horizon = at - this.windowSeconds * 1000;
    while (this.samples.length > 1 && this.samples[1].at <= horizon) this.samples.shift();
    return this.compute(at, totals, stages);
  }

  /** The oldest sample in the window taken at the context's current stage (the window's start when it did not move). */
  private baseFor(name: string, stage: string | undefined): { sample: Sample; cut: boolean } {
    for (let i = this.samples.length - 1; i > 0; i--) {
      const before = this.samples[i - 1].stages.get(name);
      if (before !== undefined && before !== stage) return { sample: this.samples[i], cut: true };
    }
    return { sample: this.samples[0], cut: false };
  }

  private compute(at: number, totals: TrafficTotals, stages: Map<string, string>): TrafficReport {
    const base = this.samples[0];
    const report: TrafficReport = { seconds: Math.round((at - base.at) / 1000), windowSeconds: this.windowSeconds, contexts: {} };
    for (const name of totals.keys()) {
      const from = this.baseFor(name, stages.get(name));
      const now = totals.get(name) ?? { monolith: 0, service: 0 };
      const then = from.sample.totals.get(name) ?? { monolith: 0, service: 0 };
      // A counter only goes down when the registry was reset: count from zero rather than show negatives.
      const monolith = Math.max(0, now.monolith - then.monolith);
      const service = Math.max(0, now.service - then.service);
      report.contexts[name] = {
        monolith,
        service,
        serviceShare: monolith + service === 0 ? null : service / (monolith + service),
        seconds: Math.round((at - from.sample.at) / 1000),
        sinceStageChange: from.cut,
      };
    }
    return report;
  }
}
