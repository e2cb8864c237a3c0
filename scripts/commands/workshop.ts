import { cliDeps, type CliDeps } from '../cli/deps';
import { CliError } from '../cli/errors';
import { formatTable } from '../cli/output';
import { EXERCISES, type CheckResult, type Exercise, type Probe } from '../workshop/exercises';
import { requireWorkshopMode, Switches, workshopMode, type ServiceSwitches } from '../workshop/switches';

/** A probe over the running stack: the facade's status and the pipelines are read once per run. */
function probe(deps: CliDeps): Probe {
  let status: ReturnType<CliDeps['facadeStatus']> | undefined;
  let pipelines: ReturnType<CliDeps['pipelines']> | undefined;
  let switches: Promise<Record<string, ServiceSwitches>> | undefined;
  const mode = workshopMode();
  return {
    workshopMode: mode,
    cwd: process.cwd(),
    async context(name) {
      status ??= deps.facadeStatus();
      const found = (await status).find((c) => c.name === name);
      if (!found) throw new CliError(`the facade does not know context ${name}: is it running the shop's plan?`);
      return found;
    },
    async pipeline(name) {
      pipelines ??= deps.pipelines();
      return (await pipelines)?.find((p) => p.name === name);
    },
    async reconcile(context) {
      if (!deps.cdc) throw new CliError('reconcile needs the CDC worker (STRANGLER_CDC_URL)');
      return deps.cdc.reconcile(context);
    },
    async upstreamFor(pathAndQuery, userId) {
      const res = await fetch(`${deps.conn.facadeUrl}${pathAndQuery}`, { headers: { 'x-user-id': userId }, signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer();
      return res.headers.get('x-strangler-upstream');
    },
    switches() {
      switches ??= mode ? new Switches(deps.conn, () => (status ??= deps.facadeStatus())).all() : Promise.resolve({});
      return switches;
    },
  };
}

interface CheckLine extends CheckResult {
  label: string;
  hint?: string;
}

async function runChecks(exercise: Exercise, p: Probe, includeCostly: boolean): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  for (const check of exercise.checks) {
    if (check.costly && !includeCostly) continue;
    const r = await check.run(p).catch((err: Error) => ({ pass: false, detail: err.message }));
    out.push({ label: check.label, ...r, ...(r.pass ? {} : { hint: check.hint }) });
  }
  return out;
}

function exerciseOrFail(raw: string): Exercise {
  const found = /^\d+$/.test(raw) ? EXERCISES.find((e) => e.n === Number(raw)) : undefined;
  if (!found) throw new CliError(`no exercise ${JSON.stringify(raw)}; the workshop has ${EXERCISES.map((e) => e.n).join(', ')}`);
  return found;
}

/** `strangler workshop`: the exercises, each one's goal and whether its quick checks hold on this stack now. */
export async function workshopListCommand(opts: { json?: boolean }): Promise<void> {
  const deps = cliDeps();
  try {
    const p = probe(deps);
    const rows = [];
    for (const e of EXERCISES) {
      const lines = await runChecks(e, p, false);
      const state = lines.every((l) => l.pass) ? (e.checks.some((c) => c.costly) ? 'done (reconcile on check)' : 'done') : `not yet (${lines.filter((l) => l.pass).length}/${lines.length})`;
      rows.push({ n: e.n, title: e.title, goal: e.goal, path: e.path, state });
    }
    const switches = await p.switches();
    const active = Object.entries(switches).flatMap(([context, s]) => [
      ...(s.fault ? [`fault ${s.fault.kind} on ${context}`] : []),
      ...s.bugs.filter((b) => b.on).map((b) => `bug ${b.name} on (${context})`),
    ]);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ workshopMode: p.workshopMode, exercises: rows, active }, null, 2)}\n`);
      return;
    }
    process.stdout.write(formatTable(['#', 'exercise', 'path', 'state'], rows.map((r) => [String(r.n), r.title, r.path, r.state])));
    process.stdout.write('\n');
    for (const r of rows) process.stdout.write(`${r.n}  ${r.goal}\n`);
    process.stdout.write(`\nworkshop mode: ${p.workshopMode ? 'on' : 'off (faults and planted bugs need `npx strangler up --workshop`)'}\n`);
    if (p.workshopMode) process.stdout.write(`active: ${active.length ? active.join(', ') : 'no fault, no planted bug'}\n`);
    process.stdout.write('`npx strangler workshop check N` checks exercise N in full (reconcile included).\n');
  } finally {
    await deps.close();
  }
}

/** `strangler workshop check N`: one line per check of exercise N, with a hint for each that fails; exit 1 if any fails. */
export async function workshopCheckCommand(raw: string, opts: { json?: boolean }): Promise<void> {
  const exercise = exerciseOrFail(raw);
  const deps = cliDeps();
  try {
    const lines = await runChecks(exercise, probe(deps), true);
    const passed = lines.every((l) => l.pass);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ exercise: exercise.n, title: exercise.title, passed, checks: lines }, null, 2)}\n`);
    } else {
      process.stdout.write(`exercise ${exercise.n} — ${exercise.title}\n`);
      for (const l of lines) {
        process.stdout.write(`${l.pass ? '✓' : '✗'} ${l.label}: ${l.detail}\n`);
        if (l.hint) process.stdout.write(`    hint: ${l.hint}\n`);
      }
      process.stdout.write(passed ? `exercise ${exercise.n} done\n` : `exercise ${exercise.n} not done yet\n`);
    }
    if (!passed) process.exitCode = 1;
  } finally {
    await deps.close();
  }
}

const describeSwitches = (s: ServiceSwitches) =>
  [s.fault ? `fault ${s.fault.kind}${s.fault.ms ? ` (${s.fault.ms} ms)` : ''}` : 'no fault', ...s.bugs.filter((b) => b.on).map((b) => `bug ${b.name} on`)].join(', ');

/** `strangler workshop fault <context> slow|down|errors|ok [--ms N]`: at run time, in the context's service. */
export async function workshopFaultCommand(context: string, kind: string, opts: { ms?: string }): Promise<void> {
  requireWorkshopMode();
  const ms = opts.ms === undefined ? undefined : Number(opts.ms);
  if (ms !== undefined && (!Number.isInteger(ms) || ms < 1 || ms > 60_000)) throw new CliError(`--ms must be an integer 1–60000, got ${JSON.stringify(opts.ms)}`);
  if (ms !== undefined && kind !== 'slow') throw new CliError('--ms goes with slow only');
  const deps = cliDeps();
  const s = await new Switches(deps.conn, () => deps.facadeStatus()).fault(context, kind, ms);
  const what: Record<string, string> = {
    slow: 'answers every request late (the facade times out at 10 s)',
    down: 'drops every connection without an answer',
    errors: 'answers every request with 500',
    ok: 'answers normally again',
  };
  process.stdout.write(`${context}: the service ${what[kind]} — now ${describeSwitches(s)}\n`);
}

/** `strangler workshop bug <name> on|off`: a planted behaviour difference, switched in whichever service has it. */
export async function workshopBugCommand(name: string, state: string): Promise<void> {
  requireWorkshopMode();
  if (state !== 'on' && state !== 'off') throw new CliError(`a bug is switched on or off, got ${JSON.stringify(state)}`);
  const deps = cliDeps();
  const { context, switches } = await new Switches(deps.conn, () => deps.facadeStatus()).bug(name, state === 'on');
  process.stdout.write(`${context}: planted bug ${name} ${state} — now ${describeSwitches(switches)}\n`);
}
