import { isStage, type Stage } from '../../lib/plan';
import { advance, GateRefusedError, label, moveStage, parseTarget, rollback, StageError, type MoveResult } from '../../lib/stages/controller';
import { UnleashError } from '../../lib/unleash/admin-client';
import { CliError } from '../cli/errors';
import { CdcUnavailableError } from '../../lib/stages/cdc-client';
import { cliDeps, type CliDeps } from '../cli/deps';
import { checkPlan } from '../plan/check';
import { refusal } from './plan';
import { contextOrFail } from './common';

function print(result: MoveResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (result.direction === 'none') {
    process.stdout.write(`${result.context} is already at ${label(result.to)}\n`);
    return;
  }
  process.stdout.write(`${result.context}: ${label(result.from)} → ${label(result.to)} (${result.direction}${result.forced ? ', forced' : ''})\n`);
  for (const g of result.gates) process.stdout.write(`  ${g.pass ? 'pass' : 'FAIL'}  ${g.gate}: ${g.detail}\n`);
  if (result.sync) process.stdout.write(`  sync  ${result.sync.direction} pipeline ${result.sync.caughtUp ? 'caught up' : 'NOT caught up'} in ${result.sync.waitedMs} ms\n`);
  for (const a of result.actions) process.stdout.write(`  done  ${a}\n`);
  for (const w of result.warnings) process.stdout.write(`  warn  ${w}\n`);
}

async function run(action: () => Promise<MoveResult>, json: boolean): Promise<void> {
  try {
    print(await action(), json);
  } catch (err) {
    if (err instanceof GateRefusedError) {
      if (json) process.stdout.write(`${JSON.stringify({ refused: true, context: err.context, to: err.target, gates: err.results }, null, 2)}\n`);
      throw new CliError(err.message, 2);
    }
    if (err instanceof StageError || err instanceof UnleashError || err instanceof CdcUnavailableError) throw new CliError(err.message);
    throw err;
  }
}

/**
 * A forward move first checks what it relies on (the context's service and databases, its tables and columns) and
 * refuses with the failing checks; `--force` moves anyway.
 */
async function checkBeforeForward(deps: CliDeps, context: string, force: boolean): Promise<void> {
  if (force) return;
  const results = await checkPlan(deps.plan, { serverUrl: deps.conn.postgresUrl, context });
  const refused = refusal(results, `refusing to move ${context}`);
  if (refused) throw refused;
}

export async function stageCommand(context: string, stage: string, opts: { percent?: string; force?: boolean; json?: boolean }): Promise<void> {
  if (!isStage(stage)) throw new CliError(`unknown stage ${JSON.stringify(stage)}: use monolith, shadow, canary, cutover or retired`);
  const percent = opts.percent === undefined ? undefined : Number(opts.percent);
  if (opts.percent !== undefined && !/^\d+$/.test(opts.percent)) throw new CliError(`--percent must be an integer 1–99, got ${JSON.stringify(opts.percent)}`);
  let target;
  try {
    target = parseTarget(stage as Stage, percent);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  if (target.stage !== 'monolith') await checkBeforeForward(deps, context, Boolean(opts.force));
  await run(() => moveStage(deps, context, target, Boolean(opts.force)), Boolean(opts.json));
}

export async function advanceCommand(context: string, opts: { force?: boolean; json?: boolean }): Promise<void> {
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  await checkBeforeForward(deps, context, Boolean(opts.force));
  await run(() => advance(deps, context, Boolean(opts.force)), Boolean(opts.json));
}

export async function rollbackCommand(context: string, opts: { json?: boolean }): Promise<void> {
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  await run(() => rollback(deps, context), Boolean(opts.json));
}
