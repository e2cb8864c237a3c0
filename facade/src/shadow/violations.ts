import type { Logger } from '../../../lib/logger';
import type { Stage } from '../../../control/plan';
import type { CdcClient, GuardStatus } from '../../../control/stages/cdc-client';
import { REARM_GRACE_MS } from '../../../control/stages/stage-service';
import type { ShadowContext } from './shadower';

/**
 * Follows the CDC worker's write guard. A service that committed a mirrored write (or wrote a reference table) gets
 * no more mirrored writes from this facade: each one would be another refused — or, unguarded, duplicated — commit.
 * Reads are still mirrored, so the comparison goes on.
 */
export class ViolationWatch {
  private readonly last = new Map<string, GuardStatus>();
  private readonly stages = new Map<string, Stage>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly cdc: CdcClient,
    private readonly contexts: Map<string, { shadow: ShadowContext }>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** One look at the worker; a worker that does not answer leaves the last known state in place. */
  poll(): Promise<void> {
    this.polling ??= (async () => {
      let guards: GuardStatus[];
      try {
        guards = await this.cdc.guards();
      } catch {
        return;
      }
      for (const g of guards) {
        if (g.error) continue;
        this.last.set(g.context, g);
        const shadow = this.contexts.get(g.context)?.shadow;
        if (!shadow) continue;
        if (g.violations > 0 && shadow.writesStopped === undefined) {
          shadow.writesStopped = describe(g);
          this.logger.error({ context: g.context, violations: g.violations, last: g.lastViolation }, `write mirroring stopped: ${shadow.writesStopped}`);
        } else if (g.violations === 0 && shadow.writesStopped !== undefined) {
          // The count was reset (the service was fixed): mirror writes again.
          shadow.writesStopped = undefined;
          this.logger.info({ context: g.context }, 'write guard reset: mirroring writes again');
        }
      }
    })().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /**
   * Back in shadow by any way — the facade's automatic rollback or a flag flipped in Unleash, which do not go through
   * the stage controller — mirrored writes must be dry runs again: arm the guard (after the same grace as a rollback).
   */
  stageChanged(context: string, stage: Stage): void {
    const before = this.stages.get(context);
    this.stages.set(context, stage);
    const serving = (s: Stage | undefined) => s === 'canary' || s === 'cutover' || s === 'retired';
    if (!serving(before) || serving(stage)) return;
    this.cdc.guard(context, true, REARM_GRACE_MS).catch((err: Error) => this.logger.warn({ context, err: err.message }, 'write guard not armed again after the rollback'));
  }

  of(context: string): GuardStatus | undefined {
    return this.last.get(context);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export function describe(g: GuardStatus): string {
  const last = g.lastViolation;
  return `${g.violations} write(s) committed by the ${g.context} service outside the CDC sink were refused${
    last ? ` (last: ${last.operation} on ${last.table} at ${last.at})` : ''
  }: it does not honour x-strangler-shadow or it writes reference data`;
}
