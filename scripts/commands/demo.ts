import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { quoteIdent } from '../../migrations/cdc/mapping/catalog';
import { effectiveGates, type Plan } from '../../control/plan';
import type { MoveResult } from '../../control/contracts';
import { GateRefusedError, label, type StageService } from '../../control/stages/stage-service';
import { pollUntil } from '../../lib/retry';
import type { StagePosition } from '../../control/stages/stepper';
import { readStage } from '../../control/flags/stage-flags';
import { cliDeps, type CliDeps } from '../cli/deps';
import { CliError } from '../cli/errors';
import { requestJson } from '../cli/stack-client';
import { stackHome } from '../stack/home';
import { startLoad, type LoadRun } from '../load/runner';
import { contextOrFail } from './common';
import { credentialHeaders, monolithDatabaseUrl } from './load';

class CheckFailed extends Error {}

export interface DemoFlags {
  context?: string;
  rps?: string;
  yes?: boolean;
  header?: string[];
  token?: string;
}

/** The stage the demo last put each context in; it resets only those (unless --yes). */
const demoRecordFile = () => path.join(stackHome(), 'demo.json');

function readRecord(): Record<string, StagePosition> {
  try {
    return JSON.parse(fs.readFileSync(demoRecordFile(), 'utf8')) as Record<string, StagePosition>;
  } catch {
    return {};
  }
}

function record(context: string, position: StagePosition): void {
  const all = { ...readRecord(), [context]: { stage: position.stage, percent: position.percent } };
  fs.mkdirSync(path.dirname(demoRecordFile()), { recursive: true });
  fs.writeFileSync(demoRecordFile(), JSON.stringify(all, null, 2));
}

function pickContext(plan: Plan, asked: string | undefined): string {
  if (asked) {
    contextOrFail(plan, asked);
    return asked;
  }
  const names = Object.keys(plan.contexts);
  if (names.length === 1) return names[0];
  throw new CliError(`say which context to walk: --context ${names.join(' | ')}`);
}

/**
 * `strangler demo`: the workshop's smoke test, for any context of the plan. Against the running stack, walks the
 * context through every stage under load from the plan's routes (never pausing it: gates and reconcile must hold
 * under live traffic), checks each gate, writes through the service at cutover and forces a rollback to check the
 * monolith got that write, reconciles, and prints what it did at each step. Exit 0 only if every check held.
 * It resets only a context it put in its stage itself; anything else needs --yes.
 */
export async function demoCommand(opts: DemoFlags): Promise<void> {
  const rps = opts.rps === undefined ? 30 : Number(opts.rps);
  if (!Number.isInteger(rps) || rps < 1 || rps > 1000) throw new CliError(`--rps must be an integer 1–1000, got ${JSON.stringify(opts.rps)}`);
  const headers = credentialHeaders(opts);
  const deps = cliDeps();
  const context = pickContext(deps.plan, opts.context);
  if (!deps.cdc) throw new CliError('the demo needs the CDC worker (start the stack with `strangler up`)');
  const databaseUrl = monolithDatabaseUrl(deps.plan, deps.conn.postgresUrl);
  const started = Date.now();
  const failures: string[] = [];
  const say = (mark: string, text: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${mark} ${text}\n`);
  const check = (ok: boolean, text: string) => {
    say(ok ? '✓' : '✗', text);
    if (!ok) failures.push(text);
    return ok;
  };
  const gates = effectiveGates(deps.plan, context);

  const initial = await readStage(deps.unleash, context);
  const counts = (await deps.facadeStatus()).find((c) => c.name === context)?.shadow.compared ?? 0;
  const mine = readRecord()[context];
  const ownedByDemo = mine !== undefined && mine.stage === initial.stage && (initial.stage !== 'canary' || mine.percent === initial.percent);
  if ((initial.stage !== 'monolith' || counts > 0) && !ownedByDemo && !opts.yes) {
    throw new CliError(
      `${context} is at ${label(initial)} with ${counts} shadow comparisons, and the demo did not put it there; ` +
        `\`strangler demo --context ${context} --yes\` rolls it back to monolith and clears its shadow counts first`,
    );
  }
  say('·', `demo on context ${context}, facade ${deps.conn.facadeUrl}`);
  const stages = await deps.stages();
  if (initial.stage !== 'monolith') {
    await stages.move(context, { stage: 'monolith', percent: 0 }, { actor: 'cli', reason: 'strangler demo: reset' });
    record(context, { stage: 'monolith', percent: 0 });
    say('·', `reset: ${context} rolled back from ${label(initial)} to monolith`);
  }
  await requestJson(`${deps.conn.facadeUrl}/_strangler/diffs?context=${encodeURIComponent(context)}`, { method: 'DELETE', token: deps.conn.adminToken, what: 'facade' });
  say('·', `reset: shadow diffs and counts of ${context} cleared`);

  const stop = new AbortController();
  const load = startLoad({ facadeUrl: deps.conn.facadeUrl, rps, plan: deps.plan, contexts: [context], monolithDatabaseUrl: databaseUrl, actors: 20, headers, signal: stop.signal });
  const summaryOrError = load.done.then(
    (s) => ({ summary: s }),
    (err: Error) => ({ error: err }),
  );
  try {
    await load.started;
  } catch (err) {
    throw new CliError(`the demo's load cannot start: ${(err as Error).message}`);
  }
  const targets = load.workload().runnable;
  say('·', `load: ${rps} requests/s through the facade on ${targets.map((t) => t.route).join(', ')}`);
  try {
    await walk(deps, stages, context, { say, check, headers, load, databaseUrl }, gates.canary.minCompared, gates.canary.maxDiffRate, gates.cutover.minRequests);
  } catch (err) {
    if (!(err instanceof CheckFailed)) {
      check(false, `unexpected: ${(err as Error).message}`);
    }
  } finally {
    stop.abort();
    await deps.close();
  }
  const outcome = await summaryOrError;
  if ('summary' in outcome) {
    const summary = outcome.summary;
    const upstreams = Object.entries(summary.byUpstream).map(([u, n]) => `${u} ${n}`).join(', ');
    say('·', `load: ${summary.requests} requests (${upstreams}); p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms; ${summary.fallbacks} fallbacks`);
    check(summary.errors.total === 0, `load: ${summary.errors.total} failed requests (5xx or network) during the whole walk${summary.errors.top[0] ? ` (first: ${summary.errors.top[0].key} ${summary.errors.top[0].message})` : ''}`);
  } else {
    check(false, `load: ${outcome.error.message}`);
  }
  const reconciled = await deps.cdc.reconcile(context).catch((err: Error) => ({ clean: false, summary: `reconcile failed: ${err.message}` }));
  check(reconciled.clean, `final ${reconciled.summary}`);
  if (failures.length) {
    process.stdout.write(`\ndemo FAILED: ${failures.length} check(s) did not hold\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`\ndemo passed: ${context} went monolith → shadow → canary → cutover → (rollback) → cutover → retired with every check holding\n`);
  }
}

interface WalkTools {
  say: (mark: string, text: string) => void;
  check: (ok: boolean, text: string) => boolean;
  headers: Record<string, string> | undefined;
  load: LoadRun;
  databaseUrl: string;
}

async function walk(deps: CliDeps, stages: StageService, context: string, tools: WalkTools, minCompared: number, maxDiffRate: number, minRequests: number): Promise<void> {
  const { say, check } = tools;
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
    record(context, result.to);
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
  // Each canary step is gated on the shadow numbers again; like an operator, wait until they hold.
  await waitFor(`canary: diff rate ≤ ${(maxDiffRate * 100).toFixed(1)}%`, 180_000, async () => {
    const s = await ctxStatus();
    return { ok: s.shadow.diffRate <= maxDiffRate, detail: `${s.shadow.compared} compared, diff rate ${(s.shadow.diffRate * 100).toFixed(1)}%` };
  });
  await step('advance', advance);
  // The facade forgets the service's outcomes when it sees a stage move (one incident, one rollback): the cutover gate
  // needs fresh traffic before the first cutover and again after the rollback.
  const servedEnough = () =>
    waitFor(`canary: ${minRequests} requests served by the service`, 180_000, async () => {
      const s = await ctxStatus();
      return { ok: s.service.requests >= minRequests, detail: `${s.service.requests} requests, error rate ${(s.service.errorRate * 100).toFixed(1)}%` };
    });
  await servedEnough();
  await step('advance', advance);

  // A write on the service side at cutover, then a forced rollback: the monolith must have it.
  const written = await writeAtCutover(deps, tools);
  await step('rollback from cutover', () => stages.rollback(context, options));
  if (written) {
    const found = await rowInMonolith(tools.databaseUrl, written.table, written.column, written.key, 15_000);
    check(found, `rollback lost nothing: ${written.table} ${written.column}=${written.key}, written on the service at cutover, is in the monolith`);
  } else {
    say('·', `no POST example with a key for ${context} in the plan (load.examples): the rollback check rests on the final reconcile`);
  }

  await servedEnough();
  await step('advance', advance);
  await step('advance', advance);
  const final = await readStage(deps.unleash, context);
  check(final.stage === 'retired', `${context} is ${final.stage}`);
}

/** One of the context's creates (a POST with an example) sent through the facade; the new row's key. */
async function writeAtCutover(deps: CliDeps, tools: WalkTools): Promise<{ table: string; column: string; key: unknown } | undefined> {
  const workload = tools.load.workload();
  const target = workload.runnable.find((t) => t.method === 'POST' && t.creates);
  if (!target?.creates) return undefined;
  const req = workload.build(target);
  let res: Response;
  try {
    res = await fetch(new URL(req.path, deps.conn.facadeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(tools.headers ?? { 'x-user-id': req.actor }) },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    tools.check(false, `write at cutover: ${target.route} did not answer: ${(err as Error).message}`);
    throw new CheckFailed();
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const key = body?.[target.creates.column] ?? body?.id;
  if (res.status !== 201 || key === undefined) {
    tools.check(false, `write at cutover: ${target.route} answered ${res.status} ${JSON.stringify(body ?? null).slice(0, 200)} (expected 201 with an id)`);
    throw new CheckFailed();
  }
  tools.say('·', `wrote ${target.creates.table} ${target.creates.column}=${String(key)} through the service at cutover (${target.route})`);
  return { table: target.creates.table, column: target.creates.column, key };
}

async function rowInMonolith(databaseUrl: string, table: string, column: string, key: unknown, timeoutMs: number): Promise<boolean> {
  const db = new Client({ connectionString: databaseUrl, application_name: 'strangler-demo' });
  db.on('error', () => undefined);
  await db.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rowCount } = await db.query(`SELECT 1 FROM ${quoteIdent(table)} WHERE ${quoteIdent(column)}::text = $1`, [String(key)]);
      if (rowCount) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await db.end().catch(() => undefined);
  }
}
