import type { Actor, ContextStatus, Direction, GateResult, MoveResult, PipelineStatus, StagePosition } from '../contracts';
import { ToolkitError } from '../../lib/errors';
import { getContext, stageIndex, type Plan, type Stage } from '../plan';
import { violationsOf, type CdcClient } from './cdc-client';
import { pipelineHealth, type GateInputs } from '../gates/gates';
import { isForward, nextPosition, previousPosition } from './stepper';
import type { UnleashAdminClient } from '../flags/admin-client';
import { applyStage, readStage } from '../flags/stage-flags';
import { ControlStoreError, type ControlStore } from '../history/control-store';
import { checkGates, gateInputs, stagesEntered } from '../gates/gate-check';

export { stagesEntered } from '../gates/gate-check';

/** A move refused before anything changed: unknown context, a move to where the context already is, a stale side. */
export class StageError extends ToolkitError {}

/** The context was no longer where the caller expected it (`MoveOptions.expect`): someone moved it first. */
export class StageMovedError extends StageError {}

/** A forward move whose gates did not all pass; carries every gate's numbers, of every stage the move passes. */
export class GateRefusedError extends StageError {
  constructor(
    readonly context: string,
    readonly target: StagePosition,
    readonly results: GateResult[],
    /** What the move did before a gate that looks at its own side effect refused it; empty: nothing changed. */
    readonly done: string[] = [],
  ) {
    const failing = results.filter((r) => !r.pass);
    const did = done.length ? `; done before refusing: ${done.join('; ')}; flags unchanged` : '';
    super(`refusing ${context} → ${label(target)}: ${failing.map((r) => `gate ${r.gate} failed: ${r.detail}`).join('; ')}${did} (use --force to override)`);
  }
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

/** A move's side effects: entering shadow extracts (forward pipeline), entering canary starts the reverse pipeline. */
function sideEffects(entered: Stage[]): { extract: boolean; reverse: boolean } {
  return { extract: entered.includes('shadow'), reverse: entered.includes('canary') };
}

/**
 * A gate on a pipeline this very move starts can only be judged after starting it; it is checked after the side
 * effects, and the refusal then says what was started (the flags still do not change).
 */
function checkedAfterSideEffects(gate: string, effects: { extract: boolean; reverse: boolean }): boolean {
  return (effects.extract && gate.startsWith('forward.')) || (effects.reverse && gate.startsWith('reverse.'));
}

export interface MoveOptions {
  actor: Actor;
  force?: boolean;
  reason?: string;
  /**
   * Compare-and-set: move only if the context is still at this position once the lock is held. Several facades
   * may decide the same automatic rollback from their own view of the flags; the first one moves, and the others
   * find the context moved already and change and record nothing.
   */
  expect?: StagePosition;
}

export interface StageServiceDeps {
  plan: Plan;
  unleash: UnleashAdminClient;
  store: ControlStore;
  /** The facade's live numbers of one context (the CLI reads them over the admin API, the facade in-process). */
  contextStatus(context: string): Promise<ContextStatus>;
  cdc?: CdcClient;
  /** How long a flip waits for the receiving side to catch up (read-your-writes). */
  syncTimeoutMs?: number;
  /** How long entering shadow waits for the extraction's snapshot to be applied. */
  snapshotTimeoutMs?: number;
}

/**
 * The only code that changes a context's stage. Under a lock per context (held across processes, in the toolkit's
 * database) it reads the current stage, checks the gates of every stage the move enters (refusing with the whole
 * list unless forced, before anything changes), then runs the side effects, waits for read-your-writes, flips the
 * flags and records the move in the history. Rollbacks are never gated: their read-your-writes wait is bounded and
 * a miss is a warning.
 */
/** How long after a rollback to shadow the service's own commits are still let through. */
export const REARM_GRACE_MS = 15_000;

export class StageService {
  constructor(private readonly deps: StageServiceDeps) {}

  get plan(): Plan {
    return this.deps.plan;
  }

  private async gateInputs(context: string): Promise<GateInputs> {
    const { cdc } = this.deps;
    const [status, pipelines] = await Promise.all([this.deps.contextStatus(context), this.pipelines()]);
    return gateInputs(context, status, pipelines, cdc ? { reconcile: () => cdc.reconcile(context), violations: () => violationsOf(cdc, context) } : {});
  }

  async advance(context: string, options: MoveOptions): Promise<MoveResult> {
    return this.locked(context, async (current, unlocked) => {
      const next = nextPosition(this.deps.plan, context, current);
      if (!next) throw new StageError(`${context} is already retired; there is no next stage`);
      return this.perform(context, current, next, options, unlocked);
    });
  }

  async rollback(context: string, options: MoveOptions): Promise<MoveResult> {
    return this.locked(context, async (current, unlocked) => {
      const prev = previousPosition(this.deps.plan, context, current);
      if (!prev) throw new StageError(`${context} is on the monolith; there is nothing to roll back`);
      return this.perform(context, current, prev, { ...options, force: false }, unlocked);
    });
  }

  async move(context: string, target: StagePosition, options: MoveOptions): Promise<MoveResult> {
    return this.locked(context, async (current, unlocked) => {
      const expected = options.expect;
      if (expected && (current.stage !== expected.stage || current.percent !== expected.percent)) {
        throw new StageMovedError(`${context} is at ${label(current)}, no longer at ${label(expected)}: moved already; nothing to do`);
      }
      if (current.stage === target.stage && current.percent === target.percent) throw new StageError(`${context} is already at ${label(target)}; nothing to do`);
      return this.perform(context, current, target, options, unlocked);
    });
  }

  /**
   * Runs a move under the context's lock. When the toolkit's database cannot be reached the move still runs, told
   * so: a rollback must never be blocked, and `perform` refuses anything else.
   */
  private async locked(context: string, fn: (current: StagePosition, unlocked?: ControlStoreError) => Promise<MoveResult>): Promise<MoveResult> {
    try {
      getContext(this.deps.plan, context);
    } catch (err) {
      throw new StageError((err as Error).message);
    }
    const current = async () => {
      const { stage, percent } = await readStage(this.deps.unleash, context);
      return { stage, percent };
    };
    try {
      return await this.deps.store.withContextLock(context, async () => fn(await current()));
    } catch (err) {
      if (!(err instanceof ControlStoreError)) throw err;
      return fn(await current(), err);
    }
  }

  private async perform(context: string, from: StagePosition, to: StagePosition, options: MoveOptions, unlocked?: ControlStoreError): Promise<MoveResult> {
    const forward = isForward(from, to);
    if (unlocked && forward) throw new StageError(`refusing ${context} → ${label(to)}: ${unlocked.message}; only a rollback goes ahead without the stage lock`);
    const force = forward && Boolean(options.force);
    const result: MoveResult = { context, from, to, direction: forward ? 'forward' : 'rollback', gates: [], forced: force, actions: [], warnings: [] };
    if (unlocked) result.warnings.push(`${unlocked.message}: rolled back without the stage lock, and the move is not in the history`);

    if (forward) {
      const entered = stagesEntered(from, to);
      const effects = sideEffects(entered);
      const inputs = await this.gateInputs(context);
      const all = await this.evaluate(context, entered, inputs);
      const now = all.filter((g) => !checkedAfterSideEffects(g.gate, effects));
      result.gates = now;
      if (!force && now.some((g) => !g.pass)) {
        // Refused here, nothing has changed: no pipeline started, no flag touched. The list is whole: the gates on
        // a pipeline this move would start say where that pipeline is now.
        const whole = all.map((g) => (checkedAfterSideEffects(g.gate, effects) ? { ...g, detail: `${g.detail}; checked again after this move starts it` } : g));
        throw new GateRefusedError(context, to, whole);
      }

      await this.runSideEffects(context, effects, result, force);
      const later = all.filter((g) => checkedAfterSideEffects(g.gate, effects));
      if (later.length) {
        const pipelines = await this.pipelines();
        const refreshed = await this.evaluate(context, entered, { ...inputs, forward: pipelineHealth(pipelines, `${context}-forward`), reverse: pipelineHealth(pipelines, `${context}-reverse`), reconcile: undefined });
        const after = refreshed.filter((g) => later.some((l) => l.gate === g.gate && l.stage === g.stage));
        result.gates = [...now, ...after];
        if (!force && after.some((g) => !g.pass)) throw new GateRefusedError(context, to, result.gates, result.actions);
      }
    }

    await this.readYourWrites(context, from, to, forward, force, result);
    await applyStage(this.deps.unleash, context, to.stage, to.stage === 'canary' ? to.percent : undefined);
    result.actions.push(`flags set: ${context} → ${label(to)}`);
    await this.tellStageOwner(context, to, result);
    if (!forward && stageIndex(from.stage) >= stageIndex('canary') && stageIndex(to.stage) < stageIndex('canary')) await this.rearmGuard(context, result);
    if (!unlocked) {
      await this.deps.store
        .record({ context, actor: options.actor, from, to, gates: result.gates, reason: options.reason ?? null, forced: result.forced })
        .catch((err: Error) => result.warnings.push(`the move is done but could not be recorded in the history: ${err.message}`));
    }
    return result;
  }

  /** Only contexts with a `stageOwnerWins` table need the worker to know the stage; a failure leaves it as it was. */
  private async tellStageOwner(context: string, to: StagePosition, result: MoveResult): Promise<void> {
    const tables = Object.values(this.deps.plan.contexts[context]?.tables ?? {});
    if (!this.deps.cdc || !tables.some((t) => t.conflict === 'stageOwnerWins')) return;
    await this.deps.cdc
      .stage(context, to.stage, to.percent)
      .then(() => result.actions.push(`CDC worker told: ${context} is at ${label(to)} (stageOwnerWins conflicts follow its writes)`))
      .catch((err: Error) => result.warnings.push(`the CDC worker did not take the new stage, so stageOwnerWins conflicts still follow the old one: ${err.message}`));
  }

  private evaluate(context: string, entered: Stage[], inputs: GateInputs): Promise<GateResult[]> {
    return checkGates(this.deps.plan, context, entered, inputs);
  }

  private async pipelines(): Promise<PipelineStatus[] | undefined> {
    return this.deps.cdc ? this.deps.cdc.pipelines().catch(() => undefined) : undefined;
  }

  private async runSideEffects(context: string, effects: { extract: boolean; reverse: boolean }, result: MoveResult, force: boolean): Promise<void> {
    const { cdc } = this.deps;
    if (!effects.extract && !effects.reverse) return;
    if (!cdc) {
      result.warnings.push('no CDC worker: pipelines were not started');
      return;
    }
    if (effects.extract) {
      // --force also lets the bulk load truncate service tables that already hold rows.
      await cdc.extract(context, { force });
      // The snapshot is loaded (bulk) or in Kafka (events) once extract returns; wait (bounded) until it is applied.
      const synced = await cdc.sync(context, 'forward', this.deps.snapshotTimeoutMs ?? 30_000).catch(() => ({ caughtUp: false }));
      result.actions.push(`extracted ${context}: id ranges set, forward pipeline started${synced.caughtUp ? ', snapshot applied' : ''}`);
    }
    if (effects.reverse) {
      await cdc.startReverse(context);
      result.actions.push(`reverse pipeline for ${context} started`);
    }
  }

  /**
   * Back below canary, mirrored writes must be dry runs again. Requests the service took while still in canary (the
   * facade sees the flip within ~2 s, a request may take UPSTREAM_TIMEOUT_MS) finish before the guard counts.
   */
  private async rearmGuard(context: string, result: MoveResult): Promise<void> {
    const { cdc } = this.deps;
    if (!cdc) return;
    await cdc.guard(context, true, REARM_GRACE_MS).then(
      () => result.actions.push(`write guard of ${context} armed again (after ${REARM_GRACE_MS / 1000} s)`),
      (err: Error) => result.warnings.push(`write guard of ${context} not armed again: ${err.message}`),
    );
  }

  /**
   * Before traffic moves towards a side, that side must have everything the other has taken. Forward: a miss
   * refuses (unless forced). Rollback: bounded, and a miss only warns — a rollback is never blocked.
   */
  private async readYourWrites(context: string, from: StagePosition, to: StagePosition, forward: boolean, force: boolean, result: MoveResult): Promise<void> {
    const direction: Direction | undefined = forward ? (to.percent > from.percent ? 'forward' : undefined) : from.percent > to.percent ? 'reverse' : undefined;
    if (!direction) return;
    const { cdc } = this.deps;
    if (!cdc) {
      result.warnings.push('no CDC worker: read-your-writes wait skipped');
      return;
    }
    const timeoutMs = this.deps.syncTimeoutMs ?? 10_000;
    const sync = await cdc.sync(context, direction, timeoutMs).catch(() => ({ caughtUp: false, waitedMs: 0 }));
    result.sync = { direction, caughtUp: sync.caughtUp, waitedMs: sync.waitedMs };
    if (sync.caughtUp) return;
    const why = `the ${direction} pipeline did not apply the latest writes within ${timeoutMs} ms`;
    if (forward && !force) {
      const did = result.actions.length ? `; done before refusing: ${result.actions.join('; ')}; flags unchanged` : '';
      throw new StageError(`refusing ${context} → ${label(to)}: ${why}; users could read stale data${did} (use --force to override)`);
    }
    result.warnings.push(`${why}; flipped anyway (${forward ? 'forced' : 'a rollback is never blocked'})`);
  }
}
