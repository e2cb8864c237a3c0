/** The stages every context moves through, in order. */
export const STAGES = ['monolith', 'shadow', 'canary', 'cutover', 'retired'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(s: string): s is Stage {
  return (STAGES as readonly string[]).includes(s);
}

/**
 * The side that takes a context's writes in a stage, for the `stageOwnerWins` conflict policy: the monolith until
 * the service serves most users (a canary of 50 % or more), the service from there.
 */
export function writeOwner(stage: Stage, percent: number): 'monolith' | 'service' {
  if (stage === 'cutover' || stage === 'retired') return 'service';
  return stage === 'canary' && percent >= 50 ? 'service' : 'monolith';
}

/** Unleash flag names: a contract with the CLI and with people using Unleash's UI. */
export function flagNames(context: string) {
  return {
    route: `strangler.${context}.route`,
    shadow: `strangler.${context}.shadow`,
    retired: `strangler.${context}.retired`,
  };
}

export interface FlagState {
  enabled: boolean;
  /** The flexibleRollout percentage, 0–100 (100 when enabled without a rollout strategy). */
  rollout: number;
}

export interface ContextFlags {
  route?: FlagState;
  shadow?: FlagState;
  retired?: FlagState;
}

/** Derives a context's stage from its flags; a missing flag means off. */
export function deriveStage(flags: ContextFlags): { stage: Stage; percent: number; sampleRate: number } {
  const on = (f?: FlagState) => Boolean(f?.enabled);
  const sampleRate = on(flags.shadow) ? flags.shadow!.rollout : 0;
  if (on(flags.retired)) return { stage: 'retired', percent: 100, sampleRate: 0 };
  const rollout = on(flags.route) ? flags.route!.rollout : 0;
  if (rollout >= 100) return { stage: 'cutover', percent: 100, sampleRate };
  if (rollout >= 1) return { stage: 'canary', percent: rollout, sampleRate };
  if (on(flags.shadow)) return { stage: 'shadow', percent: 0, sampleRate };
  return { stage: 'monolith', percent: 0, sampleRate: 0 };
}

export function stageIndex(stage: Stage): number {
  return STAGES.indexOf(stage);
}
