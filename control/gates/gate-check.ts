import type { ContextStatus, GateResult, PipelineStatus, ReconcileSummary, StagePosition } from '../contracts';
import { effectiveGates, STAGES, stageIndex, type Plan, type Stage } from '../plan';
import { evaluateGates, pipelineHealth, type GateInputs } from './gates';

/**
 * The gates' inputs, built in one place for every caller (the CLI from the facade's admin API, the facade from
 * its own status): traffic and diffs from the facade, pipelines from the CDC worker when it answers (else what the
 * facade last saw of them).
 */
export function gateInputs(
  context: string,
  status: ContextStatus,
  pipelines: PipelineStatus[] | undefined,
  lazy: { reconcile?: () => Promise<ReconcileSummary>; violations?: GateInputs['violations'] } = {},
): GateInputs {
  const seen = status.pipelines ? [status.pipelines.forward, status.pipelines.reverse].filter((p): p is PipelineStatus => p !== null) : undefined;
  const pipes = pipelines ?? seen;
  const fallbackAt = status.service.lastFallbackAt ? Date.parse(status.service.lastFallbackAt) : null;
  return {
    shadow: status.shadow,
    service: status.service,
    secondsSinceFallback: fallbackAt === null ? null : Math.floor((Date.now() - fallbackAt) / 1000),
    forward: pipelineHealth(pipes, `${context}-forward`),
    reverse: pipelineHealth(pipes, `${context}-reverse`),
    reconcile: lazy.reconcile,
    violations: lazy.violations,
  };
}

/**
 * The stages whose gates a forward move must pass: every stage it enters, skipped ones included (shadow → retired
 * checks canary, cutover and retired). A step within canary (10 % → 50 %) checks canary's gates again.
 */
export function stagesEntered(from: StagePosition, to: StagePosition): Stage[] {
  if (from.stage === to.stage) return [to.stage];
  return STAGES.filter((s) => stageIndex(s) > stageIndex(from.stage) && stageIndex(s) <= stageIndex(to.stage));
}

/** Every gate of every entered stage, each tagged with the stage it guards. */
export async function checkGates(plan: Plan, context: string, entered: Stage[], inputs: GateInputs): Promise<GateResult[]> {
  const gates = effectiveGates(plan, context);
  const out: GateResult[] = [];
  for (const stage of entered) for (const g of await evaluateGates(stage, gates, inputs)) out.push({ ...g, stage });
  return out;
}
