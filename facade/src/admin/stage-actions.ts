import type { Plan } from '../../../lib/plan';
import { violationsOf, type CdcClient } from '../../../lib/stages/cdc-client';
import { advance, rollback, type MoveResult, type StageDeps } from '../../../lib/stages/controller';
import type { GateInputs, PipelineHealth } from '../../../lib/stages/gates';
import type { UnleashAdminClient } from '../../../lib/unleash/admin-client';
import type { StatusService } from './status';

/**
 * Advance and rollback for the dashboard's buttons: the very same controller as `strangler advance|rollback`,
 * fed from the facade's own live numbers instead of its HTTP API.
 */
export class StageActions {
  private readonly deps: StageDeps;

  constructor(plan: Plan, unleash: UnleashAdminClient, status: StatusService, cdc?: CdcClient) {
    this.deps = {
      plan,
      unleash,
      cdc,
      inputs: async (context: string): Promise<GateInputs> => {
        const [{ contexts }, pipelines] = await Promise.all([status.status(), cdc ? cdc.pipelines().catch(() => undefined) : Promise.resolve(undefined)]);
        const s = contexts.find((c) => c.name === context)!;
        const pipe = (dir: string): PipelineHealth => {
          const p = pipelines?.find((x) => x.name === `${context}-${dir}`);
          return p ? { name: p.name, state: p.state, lagMs: p.lagMs } : { name: `${context}-${dir}`, state: 'absent', lagMs: null };
        };
        const fallbackAt = s.service.lastFallbackAt ? Date.parse(s.service.lastFallbackAt) : null;
        return {
          shadow: s.shadow,
          service: s.service,
          secondsSinceFallback: fallbackAt === null ? null : Math.floor((Date.now() - fallbackAt) / 1000),
          forward: pipe('forward'),
          reverse: pipe('reverse'),
          reconcile: cdc ? () => cdc.reconcile(context) : undefined,
        violations: cdc ? () => violationsOf(cdc, context) : undefined,
        };
      },
    };
  }

  advance(context: string, force = false): Promise<MoveResult> {
    return advance(this.deps, context, force);
  }

  rollback(context: string): Promise<MoveResult> {
    return rollback(this.deps, context);
  }
}
