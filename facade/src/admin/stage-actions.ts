import type { Plan } from '../../../lib/plan';
import type { CdcClient } from '../../../lib/stages/cdc-client';
import { advance, rollback, type MoveResult, type StageDeps } from '../../../lib/stages/controller';
import type { GateInputs } from '../../../lib/stages/gates';
import type { UnleashAdminClient } from '../../../lib/unleash/admin-client';
import { gateInputs } from './gate-inputs';
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
        const { contexts } = await status.status();
        return gateInputs(contexts.find((c) => c.name === context)!, cdc);
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
