import type { StagePosition } from '../contracts';
import type { Logger } from '../../lib/logger';
import { StageBusyError, type ControlStore } from './control-store';

/** What the watcher needs from the facade's flags. */
export interface ObservedStages {
  state(context: string): StagePosition;
  health(): { state: string };
  on(event: 'changed', listener: () => void): unknown;
}

const same = (a: StagePosition, b: StagePosition) => a.stage === b.stage && a.percent === b.percent;

export const UNLEASH_REASON = 'flags changed in Unleash directly (not through strangler)';

/**
 * Records a stage change the facade sees in Unleash that no stage service made (somebody used Unleash's UI or
 * API). A stage service holds the context's lock while it flips the flags and records its move before letting go,
 * so a change seen while the lock is held is looked at again later, and one the latest history entry already
 * explains is not recorded twice. Several facades agree through the same lock.
 */
export class FlagChangeRecorder {
  private readonly observed = new Map<string, StagePosition>();
  /** The newest history entry of each context when it was last looked at. */
  private readonly lastEntry = new Map<string, string>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly contexts: string[],
    private readonly flags: ObservedStages,
    private readonly store: ControlStore,
    private readonly logger: Logger,
    private readonly retryMs = 500,
  ) {}

  start(): void {
    this.flags.on('changed', () => this.enqueue(this.contexts));
    this.enqueue(this.contexts);
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    return this.queue;
  }

  /** Resolves once every check queued so far has run (tests wait on it). */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(contexts: string[]): void {
    // One check at a time, in order: two quick flag changes must be seen in the order they happened.
    this.queue = this.queue.then(() => this.check(contexts)).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record a flag change in the stage history'));
  }

  private async check(contexts: string[]): Promise<void> {
    // Flags read from the backup file at start-up may be old: only what Unleash itself says counts.
    if (this.stopped || this.flags.health().state !== 'synchronized') return;
    for (const context of contexts) {
      const now = this.flags.state(context);
      const before = this.observed.get(context);
      if (before && same(before, now)) continue;
      try {
        await this.store.withContextLock(context, async () => {
          const recent = await this.store.list({ context, limit: 20 });
          const latest = recent[0];
          const current = this.flags.state(context);
          this.observed.set(context, current);
          // The facade's flags lag Unleash by a poll: a stage service may have made several moves since the last look
          // (shadow, then monolith, before this facade saw shadow). Any move recorded since then explains the state.
          const seen = this.lastEntry.get(context);
          const at = seen === undefined ? 0 : recent.findIndex((e) => e.id === seen);
          const since = at === -1 ? recent : recent.slice(0, Math.max(1, at));
          if (latest) this.lastEntry.set(context, latest.id);
          if (latest ? since.some((e) => same(e.to, current)) : !before) return;
          const from = before ?? latest?.to;
          if (!from || same(from, current)) return;
          await this.store.record({ context, actor: 'unleash', from, to: current, gates: [], reason: UNLEASH_REASON, forced: false });
          this.logger.warn({ context, from, to: current }, 'stage changed in Unleash directly; recorded in the stage history');
        });
      } catch (err) {
        if (!(err instanceof StageBusyError)) throw err;
        // A stage service is moving this context right now: look again once it is done.
        if (!this.retries.has(context) && !this.stopped) {
          const timer = setTimeout(() => {
            this.retries.delete(context);
            this.enqueue([context]);
          }, this.retryMs);
          timer.unref();
          this.retries.set(context, timer);
        }
      }
    }
  }
}
