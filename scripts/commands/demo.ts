import { effectiveGates } from '../../lib/plan';
import type { MoveResult } from '../../control/contracts';
import { GateRefusedError, label, type StageService } from '../../control/stages/stage-service';
import { pollUntil } from '../../lib/retry';
import { readStage } from '../../lib/unleash/stage-flags';
import { cliDeps, type CliDeps } from '../cli/deps';
import { CliError } from '../cli/errors';
import { requestJson } from '../cli/stack-client';
import { readStackState } from '../stack/home';
import { startLoad } from '../load/runner';
import { contextOrFail } from './common';

class CheckFailed extends Error {}

/**
 * `strangler demo`: the workshop's smoke test. Against the running stack, walks one context (users by default)
 * through every stage under load (never pausing it: gates and reconcile must hold under live traffic), checks each gate, forces a rollback from cutover and checks that no write made on
 * the service side was lost, reconciles, and prints what it did at each step. Exit 0 only if every check held.
 */
export async function demoCommand(opts: { context?: string; rps?: string }): Promise<void> {
  const context = opts.context ?? 'users';
  const rps = opts.rps === undefined ? 30 : Number(opts.rps);
  if (!Number.isInteger(rps) || rps < 1 || rps > 1000) throw new CliError(`--rps must be an integer 1–1000, got ${JSON.stringify(opts.rps)}`);
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  if (!deps.cdc) throw new CliError('the demo needs the CDC worker (start the stack with `npm start`)');
  const started = Date.now();
  const failures: string[] = [];
  const say = (mark: string, text: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${mark} ${text}\n`);
  const check = (ok: boolean, text: string) => {
    say(ok ? '✓' : '✗', text);
    if (!ok) failures.push(text);
    return ok;
  };
  const gates = effectiveGates(deps.plan, context);

  say('·', `demo on context ${context}, facade ${deps.conn.facadeUrl}`);
  const initial = await readStage(deps.unleash, context);
  const stages = await deps.stages();
  if (initial.stage !== 'monolith') {
    await stages.move(context, { stage: 'monolith', percent: 0 }, { actor: 'cli', reason: 'strangler demo: reset' });
    say('·', `reset: ${context} rolled back from ${initial.stage} to monolith`);
  }
  await requestJson(`${deps.conn.facadeUrl}/_strangler/diffs?context=${encodeURIComponent(context)}`, { method: 'DELETE', token: deps.conn.adminToken, what: 'facade' });
  say('·', `reset: shadow diffs and counts of ${context} cleared`);

  const stop = new AbortController();
  const load = startLoad({ facadeUrl: deps.conn.facadeUrl, rps, users: 20, signal: stop.signal });
  say('·', `load: ${rps} requests/s of mixed reads and writes through the facade`);
  try {
    await walk(deps, stages, context, say, check, gates.canary.minCompared, gates.canary.maxDiffRate, gates.cutover.minRequests);
  } catch (err) {
    if (!(err instanceof CheckFailed)) {
      check(false, `unexpected: ${(err as Error).message}`);
    }
  } finally {
    stop.abort();
    await deps.close();
  }
  const summary = await load.done.catch(() => undefined);
  if (summary) {
    const upstreams = Object.entries(summary.byUpstream).map(([u, n]) => `${u} ${n}`).join(', ');
    say('·', `load: ${summary.requests} requests (${upstreams}); p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms; ${summary.fallbacks} fallbacks`);
    check(summary.errors.total === 0, `load: ${summary.errors.total} failed requests (5xx or network) during the whole walk`);
  }
  const reconciled = await deps.cdc.reconcile(context);
  check(reconciled.clean, `final ${reconciled.summary}`);
  if (failures.length) {
    process.stdout.write(`\ndemo FAILED: ${failures.length} check(s) did not hold\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`\ndemo passed: ${context} went monolith → shadow → canary → cutover → (rollback) → cutover → retired with every check holding\n`);
  }
}

type Say = (mark: string, text: string) => void;
type Check = (ok: boolean, text: string) => boolean;

async function walk(deps: CliDeps, stages: StageService, context: string, say: Say, check: Check, minCompared: number, maxDiffRate: number, minRequests: number): Promise<void> {
  const options = { actor: 'cli', reason: 'strangler demo' } as const;
  const advance = () => stages.advance(context, options);
  const step = async (what: string, move: () => Promise<MoveResult>) => {
    let result: MoveResult;
    try {
      result = await move();
    } catch (err) {
      if (err instanceof GateRefusedError) for (const g of err.results) say(g.pass ? ' ' : '✗', `   gate ${g.gate}: ${g.detail}`);
      check(false, `${what}: ${(err as Error).message}`);
      throw new CheckFailed();
    }
    check(true, `${what}: ${label(result.from)} → ${label(result.to)}`);
    for (const g of result.gates) say(g.pass ? ' ' : '✗', `   gate ${g.gate}: ${g.detail}`);
    if (result.sync) say(' ', `   read-your-writes: ${result.sync.direction} pipeline ${result.sync.caughtUp ? 'caught up' : 'NOT caught up'} in ${result.sync.waitedMs} ms`);
    for (const a of result.actions) say(' ', `   ${a}`);
    for (const w of result.warnings) say('!', `   ${w}`);
    return result;
  };
  const waitFor = async (what: string, timeoutMs: number, probe: () => Promise<{ ok: boolean; detail: string }>) => {
    let last = { ok: false, detail: 'not checked' };
    await pollUntil(async () => (last = await probe()).ok, { timeoutMs, intervalMs: 500 });
    if (!check(last.ok, `${what}: ${last.detail}`)) throw new CheckFailed();
  };
  const ctxStatus = async () => (await deps.facadeStatus()).find((c) => c.name === context)!;
  await step('advance (extraction)', advance);
  // Like an operator would: let shadow traffic accumulate until the canary gate's numbers are met.
  await waitFor(`shadow: ≥ ${minCompared} requests compared, diff rate ≤ ${(maxDiffRate * 100).toFixed(1)}%`, 180_000, async () => {
    const s = await ctxStatus();
    return { ok: s.shadow.compared >= minCompared && s.shadow.diffRate <= maxDiffRate, detail: `${s.shadow.compared} compared, diff rate ${(s.shadow.diffRate * 100).toFixed(1)}%` };
  });
  await step('advance', advance);
  await step('advance', advance);
  await waitFor(`canary: ${minRequests} requests served by the service`, 180_000, async () => {
    const s = await ctxStatus();
    return { ok: s.service.requests >= minRequests, detail: `${s.service.requests} requests, error rate ${(s.service.errorRate * 100).toFixed(1)}%` };
  });
  await step('advance', advance);

  // A write on the service side at cutover, then a forced rollback: the monolith must have it.
  const email = `demo-${Date.now()}@example.com`;
  const created = await requestJson<{ id: number }>(`${deps.conn.facadeUrl}/api/users`, { method: 'POST', body: { email, name: 'Written at cutover' }, what: 'facade' });
  await step('rollback from cutover', () => stages.rollback(context, options));
  const monolithUrl = (readStackState()?.components.find((c) => c.name === 'monolith')?.url as string | undefined) ?? deps.plan.monolith.url;
  const seen = await requestJson<{ email: string }>(`${monolithUrl}/api/users/${created.id}`, { what: 'monolith' }).catch(() => undefined);
  check(seen?.email === email, `rollback lost nothing: user ${created.id} written on the service at cutover is in the monolith`);

  await step('advance', advance);
  await step('advance', advance);
  const final = await readStage(deps.unleash, context);
  check(final.stage === 'retired', `${context} is ${final.stage}`);
}
