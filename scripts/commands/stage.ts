import type { MoveResult } from '../../control/contracts';
import { StageBusyError } from '../../control/history/control-store';
import { GateRefusedError, label, parseTarget, StageError, type StageService } from '../../control/stages/stage-service';
import { isStage, type Stage } from '../../control/plan';
import { isForward, type StagePosition } from '../../control/stages/stepper';
import { readStage } from '../../control/flags/stage-flags';
import { UnleashError } from '../../control/flags/admin-client';
import { CliError } from '../cli/errors';
import { CdcUnavailableError } from '../../control/stages/cdc-client';
import { cliDeps, type CliDeps } from '../cli/deps';
import { checkPlan } from '../plan/check';
import { refusal } from './plan';
import { contextOrFail } from './common';
import { pollUntil } from '../../lib/retry';

export interface MoveFlags {
  force?: boolean;
  json?: boolean;
  reason?: string;
}

function print(result: MoveResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${result.context}: ${label(result.from)} → ${label(result.to)} (${result.direction}${result.forced ? ', forced' : ''})\n`);
  for (const g of result.gates) process.stdout.write(`  ${g.pass ? 'pass' : 'FAIL'}  ${g.stage ? `${g.stage}: ` : ''}${g.gate}: ${g.detail}\n`);
  if (result.sync) process.stdout.write(`  sync  ${result.sync.direction} pipeline ${result.sync.caughtUp ? 'caught up' : 'NOT caught up'} in ${result.sync.waitedMs} ms\n`);
  for (const a of result.actions) process.stdout.write(`  done  ${a}\n`);
  for (const w of result.warnings) process.stdout.write(`  warn  ${w}\n`);
}

/**
 * The facade reads its flags from Unleash every second or so: a command run right after a move (a `status`, a
 * workshop check, a request) would still see the old stage. Waits, bounded, until the facade serves the new one; a
 * facade that cannot be asked, or lags longer, only earns a warning: the move is made.
 */
async function facadeSees(deps: CliDeps, result: MoveResult): Promise<void> {
  if (result.direction === 'none') return;
  const began = Date.now();
  const serves = async () => {
    const c = (await deps.facadeStatus()).find((x) => x.name === result.context);
    return c !== undefined && c.stage === result.to.stage && (c.stage !== 'canary' || c.percent === result.to.percent);
  };
  // No facade to ask (none running, or only Unleash and the worker given): nothing to wait for.
  const first = await serves().catch(() => null);
  if (first === null) return;
  const seen = first || (await pollUntil(() => serves().catch(() => false), { timeoutMs: FACADE_SEES_MS, intervalMs: 200 }));
  if (seen) result.actions.push(`facade serves ${result.context} at ${label(result.to)} (after ${Date.now() - began} ms)`);
  else result.warnings.push(`the facade did not show ${result.context} at ${label(result.to)} within ${FACADE_SEES_MS / 1000} s: it follows Unleash on its next fetch`);
}

const FACADE_SEES_MS = 15_000;

/** Runs one move through the stage service, the only code that changes a stage; every refusal is one line. */
async function run(context: string, action: (stages: StageService) => Promise<MoveResult>, json: boolean, preflight?: (deps: CliDeps) => Promise<void>): Promise<void> {
  const deps = cliDeps();
  try {
    contextOrFail(deps.plan, context);
    await preflight?.(deps);
    const result = await action(await deps.stages());
    await facadeSees(deps, result);
    print(result, json);
  } catch (err) {
    if (err instanceof GateRefusedError) {
      if (json) process.stdout.write(`${JSON.stringify({ refused: true, context: err.context, to: err.target, gates: err.results, done: err.done }, null, 2)}\n`);
      throw new CliError(err.message, 2);
    }
    if (err instanceof StageError || err instanceof StageBusyError || err instanceof UnleashError || err instanceof CdcUnavailableError) throw new CliError(err.message);
    throw err;
  } finally {
    await deps.close();
  }
}

/**
 * A forward move first checks what it relies on (the context's service and databases, its tables and columns) and
 * refuses with the failing checks; `--force` moves anyway. A rollback is never checked: it must never be blocked.
 */
async function checkBeforeForward(deps: CliDeps, context: string, target: StagePosition | 'next', force: boolean): Promise<void> {
  if (force) return;
  if (target !== 'next') {
    const current = await readStage(deps.unleash, context);
    if (!isForward(current, target)) return;
  }
  const results = await checkPlan(deps.plan, { serverUrl: deps.conn.postgresUrl, context });
  const refused = refusal(results, `refusing to move ${context}`);
  if (refused) throw refused;
}

export async function stageCommand(context: string, stage: string, opts: MoveFlags & { percent?: string }): Promise<void> {
  if (!isStage(stage)) throw new CliError(`unknown stage ${JSON.stringify(stage)}: use monolith, shadow, canary, cutover or retired`);
  const percent = opts.percent === undefined ? undefined : Number(opts.percent);
  if (opts.percent !== undefined && !/^\d+$/.test(opts.percent)) throw new CliError(`--percent must be an integer 1–99, got ${JSON.stringify(opts.percent)}`);
  let target;
  try {
    target = parseTarget(stage as Stage, percent);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  await run(context, (s) => s.move(context, target, { actor: 'cli', force: Boolean(opts.force), reason: opts.reason }), Boolean(opts.json), (deps) => checkBeforeForward(deps, context, target, Boolean(opts.force)));
}

export async function advanceCommand(context: string, opts: MoveFlags): Promise<void> {
  await run(context, (s) => s.advance(context, { actor: 'cli', force: Boolean(opts.force), reason: opts.reason }), Boolean(opts.json), (deps) => checkBeforeForward(deps, context, 'next', Boolean(opts.force)));
}

export async function rollbackCommand(context: string, opts: Omit<MoveFlags, 'force'>): Promise<void> {
  await run(context, (s) => s.rollback(context, { actor: 'cli', reason: opts.reason }), Boolean(opts.json));
}
