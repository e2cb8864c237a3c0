import { canarySteps, stageIndex, type Plan, type Stage } from '../plan';

export interface StagePosition {
  stage: Stage;
  /** The canary share (1–99); 100 for cutover and retired, 0 before. */
  percent: number;
}

/** `advance`: monolith → shadow → canary (each plan step, 10 % then 50 % by default) → cutover → retired. */
export function nextPosition(plan: Plan, context: string, current: StagePosition): StagePosition | undefined {
  const steps = canarySteps(plan, context);
  switch (current.stage) {
    case 'monolith':
      return { stage: 'shadow', percent: 0 };
    case 'shadow':
      return steps.length ? { stage: 'canary', percent: steps[0] } : { stage: 'cutover', percent: 100 };
    case 'canary': {
      const higher = steps.filter((p) => p > current.percent);
      return higher.length ? { stage: 'canary', percent: higher[0] } : { stage: 'cutover', percent: 100 };
    }
    case 'cutover':
      return { stage: 'retired', percent: 100 };
    case 'retired':
      return undefined;
  }
}

/** `rollback`: the mirror image of `advance`, one step at a time. */
export function previousPosition(plan: Plan, context: string, current: StagePosition): StagePosition | undefined {
  const steps = canarySteps(plan, context);
  switch (current.stage) {
    case 'monolith':
      return undefined;
    case 'shadow':
      return { stage: 'monolith', percent: 0 };
    case 'canary': {
      const lower = steps.filter((p) => p < current.percent);
      return lower.length ? { stage: 'canary', percent: lower[lower.length - 1] } : { stage: 'shadow', percent: 0 };
    }
    case 'cutover':
      return steps.length ? { stage: 'canary', percent: steps[steps.length - 1] } : { stage: 'shadow', percent: 0 };
    case 'retired':
      return { stage: 'cutover', percent: 100 };
  }
}

/** A move is forward when it sends more traffic (or more responsibility) to the service. Rollbacks are never gated. */
export function isForward(from: StagePosition, to: StagePosition): boolean {
  const a = stageIndex(from.stage);
  const b = stageIndex(to.stage);
  if (a !== b) return b > a;
  return to.percent > from.percent;
}
