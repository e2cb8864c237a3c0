import { Counter } from 'prom-client';
import { registry } from '../../../lib/http/metrics';
import type { Logger } from '../../../lib/logger';
import { effectiveAutoRollback, type Plan, type Stage } from '../../../control/plan';
import { previousPosition } from '../../../control/stages/stepper';
import type { RollbackRecord } from '../../../control/contracts';
import { StageBusyError } from '../../../control/history/control-store';
import { StageError, StageMovedError, type StageService } from '../../../control/stages/stage-service';
import type { Flags } from '../flags/flag-source';
import type { ServiceOutcomes } from '../upstreams/outcomes';

export type { RollbackRecord } from '../../../control/contracts';

const rollbacks = new Counter({
  name: 'strangler_auto_rollbacks_total',
  help: 'Automatic rollbacks by context.',
  labelNames: ['context'],
  registers: [registry],
});

/** One stage back: cutover → its previous step (the last canary step), canary → shadow. */
export function previousStage(plan: Plan, context: string, stage: Stage): { stage: Stage; percent: number } | undefined {
  if (stage === 'cutover') return previousPosition(plan, context, { stage, percent: 100 });
  if (stage === 'canary') return { stage: 'shadow', percent: 0 };
  return undefined;
}

/**
 * Flagger-style automatic rollback, per context: while a context is in canary or cutover, if its service's 5xx +
 * timeout rate over the plan's sliding window passes the threshold (with enough requests to mean something), the
 * context goes back one stage through the stage service — like a manual rollback it waits (bounded, never
 * blocked) for the reverse pipeline, and is recorded in the history as `auto-rollback`.
 *
 * Once per incident, however many facades run: each replica counts only what it routed, so several may trip on the
 * same failures. The move is a compare-and-set under the stage service's lock in the toolkit's database (from the
 * stage this replica saw): the first replica moves and records it, the others find the context moved already and
 * do nothing. And a replica forgets its window whenever it sees the stage change, whoever changed it: failures seen
 * at cutover are no evidence against the canary the first replica rolled back to, so the others cannot step it
 * back again on the same incident.
 */
export class AutoRollback {
  private timer?: NodeJS.Timeout;
  private busy = false;
  readonly last = new Map<string, RollbackRecord>();
  /** The stage each context was at in the last check: a change starts a new window. */
  private readonly seen = new Map<string, { stage: Stage; percent: number }>();

  constructor(
    private readonly plan: Plan,
    private readonly flags: Flags,
    private readonly outcomes: ServiceOutcomes,
    private readonly stages: StageService,
    private readonly logger: Logger,
  ) {}

  start(intervalMs = 1000): void {
    // Forget at the very change, not at the next check: a gate read right after a stage move (the CLI waits until the
    // facade serves the new stage, then reads its counts) must not see the old stage's requests.
    this.flags.on('changed', () => {
      if (this.timer) this.noteStages();
    });
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
    // The stages the facade serves from the start (it reads its flags before it listens): a change within the first
    // check's second must start a new window too.
    this.noteStages();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A stage change starts a new window: the outcomes seen before it are no evidence about the new stage. */
  private noteStages(): void {
    for (const context of Object.keys(this.plan.contexts)) {
      if (!effectiveAutoRollback(this.plan, context).enabled) continue;
      const { stage, percent } = this.flags.state(context);
      const before = this.seen.get(context);
      if (before && (before.stage !== stage || before.percent !== percent)) this.outcomes.reset(context);
      this.seen.set(context, { stage, percent });
    }
  }

  async check(): Promise<RollbackRecord[]> {
    if (this.busy) return [];
    this.busy = true;
    const done: RollbackRecord[] = [];
    try {
      this.noteStages();
      for (const context of Object.keys(this.plan.contexts)) {
        const rule = effectiveAutoRollback(this.plan, context);
        if (!rule.enabled) continue;
        const position = this.flags.state(context);
        const { stage } = position;
        if (stage !== 'canary' && stage !== 'cutover') continue;
        const w = this.outcomes.window(context, rule.windowSeconds);
        if (w.requests < rule.minRequests || w.errorRate <= rule.maxErrorRate) continue;
        const to = previousStage(this.plan, context, stage)!;
        const reason = `service error rate ${(w.errorRate * 100).toFixed(1)}% (${w.failed}/${w.requests} requests in ${rule.windowSeconds}s) > ${(rule.maxErrorRate * 100).toFixed(1)}%`;
        let moved;
        try {
          moved = await this.stages.move(context, to, { actor: 'auto-rollback', reason, expect: { stage, percent: position.percent } });
        } catch (err) {
          // Busy: another move (another replica's rollback, a manual move) holds the context; the next check looks
          // again. Moved or already there: another replica or an operator was faster, and this incident is handled.
          if (err instanceof StageMovedError) {
            this.outcomes.reset(context);
            this.logger.info({ context, err: err.message }, 'automatic rollback already made (by another facade or an operator)');
          } else if (err instanceof StageBusyError || err instanceof StageError) this.logger.info({ context, err: (err as Error).message }, 'automatic rollback not applied');
          else this.logger.error({ context, err: (err as Error).message }, 'automatic rollback failed');
          continue;
        }
        for (const warning of moved.warnings) this.logger.warn({ context, warning }, 'automatic rollback');
        const record: RollbackRecord = { context, at: new Date().toISOString(), from: moved.from, to: moved.to, reason };
        this.last.set(context, record);
        this.outcomes.reset(context);
        rollbacks.labels(context).inc();
        this.logger.warn(record, 'automatic rollback');
        done.push(record);
      }
    } finally {
      this.busy = false;
    }
    return done;
  }
}
