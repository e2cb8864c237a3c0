import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/net/ports';
import { ratio, summariseRow, unmeasuredRow, type RoundResult, type RowResult, type SuiteResult } from '../report';
import type { Suite, SuiteContext } from '../suite';
import { cpuMs, withChildren } from '../tools/cpu';
import { nginxBinary } from '../tools/install';
import { startNodeProcess, whenListening } from '../tools/processes';
import { startNginx } from '../servers/nginx';
import { delta, scrapeCounters, type FacadeCounters } from './metrics';
import { startFacadeProcess, type FacadeProcess } from './facade-process';
import { profileRun, type Profilable } from './profile-run';
import type { ProfiledRun } from '../profile/render';
import { BASELINE_ROWS, CORES, PACED_RATE, ROWS, type RowSpec } from './rows';
import { startFacadeStack, type FacadeStack } from './stack';

const SERVERS = path.resolve(__dirname, '..', 'servers');

export const facadeSuite: Suite = {
  name: 'facade',
  title: 'Facade (same tiny JSON upstream for every row, one run)',
  baseline: 'node-forward',
  run: runFacadeSuite,
};

type Target = RowSpec['target'];

async function runFacadeSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const { options, log } = ctx;
  const baselineRoot = process.env.BENCH_BASELINE_FACADE || undefined;
  const all = baselineRoot ? [...ROWS, ...BASELINE_ROWS] : ROWS;
  const names = all.map((r) => r.name);
  const unknown = (options.rows ?? []).filter((r) => !names.includes(r));
  if (unknown.length) throw new Error(`unknown row(s) ${unknown.join(', ')}; the facade rows are: ${names.join(', ')}${baselineRoot ? '' : ` (baseline rows need BENCH_BASELINE_FACADE)`}`);
  const selected = options.rows ? all.filter((r) => options.rows!.includes(r.name)) : all;
  const needs = new Set(selected.map((r) => r.target));
  const unmeasured = new Map<string, RowResult>();
  const urls = new Map<Target, string>();
  /** The processes of each server under test, for CPU per request (nginx's worker is found once it runs). */
  const pids = new Map<Target, () => number[]>();
  const cleanup: (() => Promise<void>)[] = [];
  let facade: FacadeProcess | undefined;
  let baseline: FacadeProcess | undefined;
  let cores: FacadeProcess | undefined;
  let stack: FacadeStack | undefined;

  try {
    const upstream = await startServer('upstream', {});
    cleanup.push(upstream.stop);
    urls.set('upstream', upstream.url);
    pids.set('upstream', () => [upstream.pid]);
    for (const target of ['node-forward', 'naive', 'httpxy'] as const) {
      if (!needs.has(target)) continue;
      const s = await startServer(target, { BENCH_UPSTREAM: upstream.url });
      cleanup.push(s.stop);
      urls.set(target, s.url);
      pids.set(target, () => [s.pid]);
    }
    for (const [target, row, workers] of [['nginx', 'nginx', 1], ['nginx-cores', 'nginx/cores', CORES]] as const) {
      if (!needs.has(target)) continue;
      const binary = nginxBinary(log);
      if (!binary) {
        unmeasured.set(row, unmeasuredRow(row, rowSpec(row).what, 'skipped', 'nginx is not installed and could not be installed with apt-get'));
        continue;
      }
      try {
        const port = await freePort();
        const nginx = await startNginx(binary.path, port, new URL(upstream.url), workers);
        cleanup.push(nginx.stop);
        urls.set(target, `http://127.0.0.1:${port}`);
        pids.set(target, () => withChildren(nginx.pid));
      } catch (err) {
        unmeasured.set(row, unmeasuredRow(row, rowSpec(row).what, 'failed', `nginx ${binary.version} did not start: ${firstLine(err)}`));
      }
    }
    if (needs.has('facade') || needs.has('baseline') || needs.has('facade-cores')) {
      stack = await startFacadeStack(log);
      cleanup.push(stack.stop);
    }
    if (needs.has('facade') && stack) {
      log('starting the facade…');
      facade = await startFacadeProcess({ stack, upstream: upstream.url, port: await freePort() });
      const f = facade;
      cleanup.push(() => f.stop());
      urls.set('facade', facade.url);
      pids.set('facade', () => [f.pid]);
    }
    if (needs.has('facade-cores') && stack) {
      log(`starting the facade as ${CORES} processes…`);
      const c = await startFacadeProcess({ stack, upstream: upstream.url, port: await freePort(), name: 'facade (per core)', env: { FACADE_PROCESSES: String(CORES) } });
      cleanup.push(() => c.stop());
      urls.set('facade-cores', c.url);
      pids.set('facade-cores', () => withChildren(c.pid));
      cores = c;
    }
    if (needs.has('baseline') && stack) {
      log(`starting the baseline facade from ${baselineRoot}…`);
      const b = await startFacadeProcess({ stack, upstream: upstream.url, port: await freePort(), name: 'baseline facade', root: baselineRoot });
      cleanup.push(() => b.stop());
      urls.set('baseline', b.url);
      pids.set('baseline', () => [b.pid]);
      baseline = b;
    }

    const measured = selected.filter((r) => !unmeasured.has(r.name));
    const spec = (row: RowSpec, seconds: number) => ({
      url: `${urls.get(row.target)}${row.path}`,
      seconds,
      connections: options.connections,
      threads: options.threads,
      rate: row.paced ? PACED_RATE : undefined,
    });
    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} s per row`);
      for (const row of measured) await ctx.load.run(spec(row, options.warmup)).catch(() => undefined);
    }

    // Per row, what the facade's counters moved by during its measured runs (rows can share a context).
    const observed = new Map<string, { served: Record<string, number>; shadow: Record<string, number> }>();
    const rounds = new Map<string, RoundResult[]>(measured.map((r) => [r.name, []]));
    const failures = new Map<string, string>();
    for (let round = 1; round <= options.rounds; round++) {
      // Rows take turns starting a round, so none is always measured right after the heaviest one.
      const order = measured.map((_, i) => measured[(i + round - 1) % measured.length]);
      for (const row of order) {
        if (failures.has(row.name)) continue;
        const loadavg1 = ctx.sampleLoad();
        try {
          const procs = pids.get(row.target)!();
          const counted = row.target === 'baseline' ? baseline : row.target === 'facade-cores' ? cores : facade;
          const countersBefore = row.context && counted ? await scrapeCounters(counted.url) : undefined;
          const cpuBefore = cpuMs(procs);
          const r = await ctx.load.run(spec(row, options.seconds));
          const cpuAfter = cpuMs(procs);
          if (countersBefore && counted) accumulate(observed, row, countersBefore, await scrapeCounters(counted.url));
          const cpuUsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && r.requests > 0 ? ((cpuAfter - cpuBefore) * 1000) / r.requests : null;
          rounds.get(row.name)!.push({ ...r, round, loadavg1, cpuUsPerRequest });
          log(`round ${round}/${options.rounds} ${row.name.padEnd(17)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${r.errors ? `  ${r.errors} errors` : ''}  (load ${loadavg1.toFixed(2)})`);
        } catch (err) {
          failures.set(row.name, firstLine(err));
          log(`${row.name} failed: ${firstLine(err)}`);
        }
      }
    }

    const rows = selected.map((row) => {
      const done = unmeasured.get(row.name);
      if (done) return done;
      const failure = failures.get(row.name);
      if (failure) return unmeasuredRow(row.name, row.what, 'failed', failure);
      const seen = observed.get(row.name);
      const described = seen ? describeFacadeRow(row, seen.served, seen.shadow) : undefined;
      const result = summariseRow(row.name, row.what, rounds.get(row.name)!, described?.note, described?.details);
      if (row.paced) result.offeredRate = PACED_RATE;
      return result;
    });

    let profiles: ProfiledRun[] | undefined;
    let profileNote: string | undefined;
    if (!options.profile) profileNote = 'skipped (--no-profile)';
    else if (!facade || !stack || !selected.some((r) => r.name === 'facade/monolith')) profileNote = 'skipped: the facade/monolith row was not selected';
    else {
      // The measured facade is stopped first so the profiled processes have the machine to themselves.
      await facade.stop();
      const s = stack;
      const load = (url: string, seconds: number) => ctx.load.run({ url, seconds, connections: options.connections, threads: options.threads });
      const runs: { row: string; start: (flags: string[]) => Promise<Profilable> }[] = [
        { row: 'node-forward', start: (flags) => startServer('node-forward', { BENCH_UPSTREAM: upstream.url }, flags) },
        { row: 'facade/monolith', start: async (flags) => startFacadeProcess({ stack: s, upstream: upstream.url, port: await freePort(), nodeFlags: flags, name: 'facade (profiled)' }) },
        { row: 'facade/shadow100', start: async (flags) => startFacadeProcess({ stack: s, upstream: upstream.url, port: await freePort(), nodeFlags: flags, name: 'facade (profiled)' }) },
      ];
      try {
        profiles = [];
        for (const run of runs) {
          log(`profiling ${run.row} (${options.profileSeconds} s under --cpu-prof)…`);
          profiles.push(await profileRun({ row: run.row, start: run.start, path: rowSpec(run.row).path, seconds: options.profileSeconds, dir: options.profileDir, load }));
        }
      } catch (err) {
        profileNote = `profiling failed: ${firstLine(err)}`;
      }
    }

    return { suite: 'facade', rows, ratios: facadeRatios(rows), notes: suiteNotes(ctx), profiles, profileNote };
  } finally {
    for (const close of cleanup.reverse()) await close().catch((err: unknown) => log(`cleanup: ${firstLine(err)}`));
  }
}

function rowSpec(name: string): RowSpec {
  return ROWS.find((r) => r.name === name)!;
}

async function startServer(name: 'upstream' | 'node-forward' | 'naive' | 'httpxy', env: Record<string, string>, nodeFlags: string[] = []) {
  const port = await freePort();
  const proc = startNodeProcess(name, path.join(SERVERS, `${name}.ts`), { ...env, BENCH_PORT: String(port) }, nodeFlags);
  try {
    await whenListening(proc, port);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid, stop: () => proc.stop() };
}

function accumulate(into: Map<string, { served: Record<string, number>; shadow: Record<string, number> }>, row: RowSpec, before: FacadeCounters, after: FacadeCounters): void {
  const acc = into.get(row.name) ?? { served: {}, shadow: {} };
  const add = (to: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) to[k] = (to[k] ?? 0) + v;
  };
  add(acc.served, delta(before.requests, after.requests, `${row.context}/`));
  add(acc.shadow, delta(before.shadow, after.shadow, `${row.context}/`));
  into.set(row.name, acc);
}

/** What the facade's own counters say about a row: the canary's split and how shadow comparisons ended. */
function describeFacadeRow(row: RowSpec, served: Record<string, number>, shadow: Record<string, number>): { note?: string; details: Record<string, unknown> } {
  const ctx = row.context!;
  const total = Object.values(served).reduce((a, b) => a + b, 0);
  const compared = (shadow.matched ?? 0) + (shadow.diff ?? 0) + (shadow.error ?? 0);
  const details = { servedBy: served, shadow };
  const pct = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : '–');
  if (row.name.endsWith('/canary50')) {
    const toMonolith = served.monolith ?? 0;
    return { details, note: `${pct(served[ctx] ?? 0, total)} served by the service; the monolith half shadowed: ${pct(compared, toMonolith)} compared, ${shadow.diff ?? 0} diffs` };
  }
  if (row.name.includes('/shadow100')) {
    return { details, note: `${pct(compared, total)} of requests compared (${shadow.skipped ?? 0} skipped at the concurrency cap, ${shadow.diff ?? 0} diffs, ${shadow.error ?? 0} errors)` };
  }
  return { details };
}

function facadeRatios(rows: RowResult[]) {
  const ab = rows.some((r) => r.name === 'baseline/monolith')
    ? [
        ratio(rows, { numerator: 'facade/monolith', denominator: 'baseline/monolith', metric: 'rps' }),
        ratio(rows, { numerator: 'facade/monolith', denominator: 'baseline/monolith', metric: 'cpuUsPerRequest' }),
        ratio(rows, { numerator: 'facade/canary50', denominator: 'baseline/canary50', metric: 'cpuUsPerRequest' }),
        ratio(rows, { numerator: 'facade/shadow100', denominator: 'baseline/shadow100', metric: 'cpuUsPerRequest' }),
        ratio(rows, { numerator: 'baseline/monolith', denominator: 'node-forward', metric: 'rps' }),
        ratio(rows, { numerator: 'baseline/shadow100/paced', denominator: 'baseline/monolith/paced', metric: 'p99' }),
      ]
    : [];
  return [
    ...ab,
    ratio(rows, { numerator: 'facade/monolith', denominator: 'node-forward', metric: 'rps', target: { op: '>=', value: 0.75 } }),
    ratio(rows, { numerator: 'facade/monolith', denominator: 'node-forward', metric: 'p99', target: { op: '<=', value: 1.5 } }),
    ratio(rows, { numerator: 'facade/shadow100', denominator: 'facade/monolith', metric: 'p99', target: { op: '<=', value: 1.15 } }),
    ratio(rows, { numerator: 'facade/monolith/paced', denominator: 'node-forward/paced', metric: 'p99', target: { op: '<=', value: 1.5 } }),
    ratio(rows, { numerator: 'facade/shadow100/paced', denominator: 'facade/monolith/paced', metric: 'p99', target: { op: '<=', value: 1.15 } }),
    ratio(rows, { numerator: 'facade/monolith', denominator: 'naive', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/monolith', denominator: 'nginx', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/monolith/cores', denominator: 'nginx/cores', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/monolith/cores', denominator: 'facade/monolith', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/canary50', denominator: 'facade/monolith', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/shadow100', denominator: 'facade/monolith', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/monolith', denominator: 'node-forward', metric: 'cpuUsPerRequest' }),
    ratio(rows, { numerator: 'facade/monolith', denominator: 'httpxy', metric: 'cpuUsPerRequest' }),
    ratio(rows, { numerator: 'httpxy', denominator: 'node-forward', metric: 'rps' }),
    ratio(rows, { numerator: 'facade/shadow100', denominator: 'facade/monolith', metric: 'cpuUsPerRequest' }),
    ratio(rows, { numerator: 'node-forward', denominator: 'direct', metric: 'rps' }),
  ];
}

function suiteNotes(ctx: SuiteContext): string[] {
  const { options, load } = ctx;
  const notes = [
    `${load.name} ${load.version}: -c${options.connections} -t${options.threads}, keep-alive, ${options.warmup} s warm-up per row, ${options.rounds} round(s) of ${options.seconds} s, rows interleaved; medians over rounds.`,
    `Every request carries an x-user-id from a pool of ${options.users}${load.variesUsers ? '' : ' (autocannon: one fixed user, so the canary measures one side only)'}.`,
    `Rows without "/paced" run flat out, so their latency is mostly queueing (${options.connections} connections ÷ throughput); "/paced" rows are offered ${PACED_RATE} req/s, so their latency is the request's own.`,
  ];
  const cpus = os.cpus().length;
  if (cpus <= 2) notes.push(`${cpus} cores: the load generator, the proxy under test and the upstream share them, so absolute figures are low and ratios are what to read.`);
  notes.push('CPU µs/req: user + system time of the server under test (all its processes; for direct, the upstream) over the requests of the round. It moves least when the machine is busy.');
  return notes;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
