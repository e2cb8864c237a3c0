import { effectiveGates, getContext, type Plan, type Stage } from '../plan';
import type { UnleashAdminClient } from '../unleash/admin-client';
import { applyStage, readStage } from '../unleash/stage-flags';
import type { CdcClient } from './cdc-client';
import { evaluateGates, type GateInputs, type GateResult } from './gates';
import { isForward, nextPosition, previousPosition, type StagePosition } from './stepper';

export class StageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageError';
  }
}

/** A forward move whose gates did not all pass; carries every gate's numbers. */
export class GateRefusedError extends StageError {
  constructor(
    readonly context: string,
    readonly target: StagePosition,
    readonly results: GateResult[],
  ) {
    const failing = results.filter((r) => !r.pass);
    super(`refusing ${context} → ${label(target)}: ${failing.map((r) => `gate ${r.gate} failed: ${r.detail}`).join('; ')} (use --force to override)`);
    this.name = 'GateRefusedError';
  }
}

export interface MoveResult {
  context: string;
  from: StagePosition;
  to: StagePosition;
  direction: 'forward' | 'rollback' | 'none';
  gates: GateResult[];
  forced: boolean;
  sync?: { direction: 'forward' | 'reverse'; caughtUp: boolean; waitedMs: number };
  actions: string[];
  warnings: string[];
}

export interface StageDeps {
  plan: Plan;
  unleash: UnleashAdminClient;
  /** Traffic and pipeline numbers for the gates. */
  inputs(context: string): Promise<GateInputs>;
  cdc?: CdcClient;
  /** How long a flip waits for the receiving side to catch up (read-your-writes). */
  syncTimeoutMs?: number;
}

export const label = (p: StagePosition) => (p.stage === 'canary' ? `canary ${p.percent}%` : p.stage);

export function parseTarget(stage: Stage, percent: number | undefined): StagePosition {
  if (stage === 'canary') {
    const p = percent ?? 10;
    if (!Number.isInteger(p) || p < 1 || p > 99) throw new StageError(`canary percent must be an integer 1–99, got ${percent}`);
    return { stage, percent: p };
  }
  if (percent !== undefined) throw new StageError(`--percent only applies to the canary stage`);
  return { stage, percent: stage === 'cutover' || stage === 'retired' ? 100 : 0 };
}

/**
 * Moves a context to a stage. Forward moves check the gates first (refused with numbers unless forced), then do
 * the stage's data side effects (extraction, reverse pipeline), then wait until the side receiving traffic has
 * applied the other side's latest writes, and only then flip the flags. Rollbacks are never blocked: traffic goes
 * back first, both pipelines keep running, so no write made on the service side is lost.
 */
export async function moveStage(deps: StageDeps, context: string, target: StagePosition, force = false): Promise<MoveResult> {
  getContext(deps.plan, context);
  const current = await readStage(deps.unleash, context);
  const from: StagePosition = { stage: current.stage, percent: current.percent };
  const same = from.stage === target.stage && from.percent === target.percent;
  const forward = !same && isForward(from, target);
  const result: MoveResult = { context, from, to: target, direction: same ? 'none' : forward ? 'forward' : 'rollback', gates: [], forced: force, actions: [], warnings: [] };
  if (same) return result;

  if (forward) {
    // Side effects first: the shadow gate looks at the very pipeline that extraction starts. They are idempotent,
    // and harmless if the gates then refuse (the service takes no real traffic before the flip).
    await forwardSideEffects(deps, context, from, target, result, force);
    result.gates = await evaluateGates(target.stage, effectiveGates(deps.plan, context), await deps.inputs(context));
    if (!force && result.gates.some((g) => !g.pass)) throw new GateRefusedError(context, target, result.gates);
  }

  // Read-your-writes: before traffic moves towards a side, that side must have everything the other has taken.
  const syncDirection = forward ? (target.percent > from.percent ? 'forward' : undefined) : from.percent > target.percent ? 'reverse' : undefined;
  if (syncDirection && deps.cdc) {
    const sync = await deps.cdc.sync(context, syncDirection, deps.syncTimeoutMs ?? 10_000).catch((err: Error) => ({ caughtUp: false, waitedMs: 0, lsn: '', error: err.message }));
    result.sync = { direction: syncDirection, caughtUp: sync.caughtUp, waitedMs: sync.waitedMs };
    if (!sync.caughtUp) {
      const why = `the ${syncDirection} pipeline did not apply the latest writes within ${deps.syncTimeoutMs ?? 10_000} ms`;
      if (forward && !force) throw new StageError(`refusing ${context} → ${label(target)}: ${why}; users could read stale data (use --force to override)`);
      result.warnings.push(`${why}; flipped anyway (${forward ? 'forced' : 'a rollback is never blocked'})`);
    }
  } else if (syncDirection) {
    result.warnings.push('no CDC worker: read-your-writes wait skipped');
  }

  await applyStage(deps.unleash, context, target.stage, target.stage === 'canary' ? target.percent : undefined);
  result.actions.push(`flags set: ${context} → ${label(target)}`);
  return result;
}

async function forwardSideEffects(deps: StageDeps, context: string, from: StagePosition, to: StagePosition, result: MoveResult, force: boolean): Promise<void> {
  const order = ['monolith', 'shadow', 'canary', 'cutover', 'retired'];
  const crosses = (stage: Stage) => order.indexOf(from.stage) < order.indexOf(stage) && order.indexOf(to.stage) >= order.indexOf(stage);
  if (!deps.cdc) {
    if (crosses('shadow') || crosses('canary')) result.warnings.push('no CDC worker: pipelines were not started');
    return;
  }
  if (crosses('shadow')) {
    // --force also lets a bulk load truncate service tables that already hold rows.
    await deps.cdc.extract(context, { force });
    // The snapshot is loaded (bulk) or in Kafka (events) once extract returns; wait (bounded) until it is applied.
    const synced = await deps.cdc.sync(context, 'forward', deps.syncTimeoutMs ?? 30_000);
    result.actions.push(`extracted ${context}: id ranges set, forward pipeline started${synced.caughtUp ? ', snapshot applied' : ''}`);
  }
  if (crosses('canary')) {
    await deps.cdc.startReverse(context);
    result.actions.push(`reverse pipeline for ${context} started`);
  }
}

export async function advance(deps: StageDeps, context: string, force = false): Promise<MoveResult> {
  const current = await readStage(deps.unleash, context);
  const next = nextPosition(deps.plan, context, current);
  if (!next) throw new StageError(`${context} is already retired; there is no next stage`);
  return moveStage(deps, context, next, force);
}

export async function rollback(deps: StageDeps, context: string): Promise<MoveResult> {
  const current = await readStage(deps.unleash, context);
  const prev = previousPosition(deps.plan, context, current);
  if (!prev) throw new StageError(`${context} is on the monolith; there is nothing to roll back`);
  return moveStage(deps, context, prev);
}
