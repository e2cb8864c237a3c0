import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOptions, USAGE } from './options';
import { renderComparison, renderProfile } from './profile/render';
import { renderSuite, type BenchResults, type SuiteResult } from './report';
import { SUITES } from './suites';
import { loadGenerator } from './tools/install';
import { measuredNodeVersion } from './tools/processes';

/**
 * `npm run bench [-- --quick | --smoke]`: every suite's rows measured in one run on this machine, printed as
 * markdown and written to bench/results.json. Progress goes to stderr so stdout is the report alone.
 */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), SUITES.map((s) => s.name));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const log = (line: string) => console.error(`[bench] ${line}`);
  const startedAt = new Date();
  const loadStart = os.loadavg();
  let max1 = loadStart[0];
  const load = loadGenerator(options.users, log);
  log(`${options.mode} run with ${load.name} ${load.version}, measured on Node ${measuredNodeVersion()}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);

  const suites: Record<string, SuiteResult> = {};
  const sections: string[] = [];
  for (const suite of SUITES.filter((s) => options.suites.includes(s.name))) {
    const result = await suite.run({
      options,
      load,
      log,
      sampleLoad: () => {
        const l = os.loadavg()[0];
        max1 = Math.max(max1, l);
        return l;
      },
    });
    suites[suite.name] = result;
    sections.push(`## ${suite.title}\n\n${renderSuite(result, suite.baseline, suite.unit)}`);
    if (result.profiles?.length) {
      const heading = result.profileHeading ?? `Where the time goes (--cpu-prof, ${options.profileSeconds} s per profiled row)`;
      const parts = [`### ${heading}`, '', renderComparison(result.profiles)];
      for (const p of result.profiles.slice(1)) parts.push('', `#### ${p.row}`, '', renderProfile(p, p.requests));
      const files = [...new Set(result.profiles.map((p) => (p.file ? path.relative(process.cwd(), p.file) : '–')))];
      parts.push('', `Profiles: ${files.join(', ')}`);
      sections.push(parts.join('\n'));
    } else if (result.profileNote) {
      sections.push(`Profile: ${result.profileNote}`);
    }
  }

  const loadEnd = os.loadavg();
  const results: BenchResults = {
    version: 1,
    mode: options.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: measuredNodeVersion(),
      loadavg: { start: loadStart.map(round2), end: loadEnd.map(round2), max1: round2(Math.max(max1, loadEnd[0])) },
    },
    load: {
      generator: load.name,
      version: load.version,
      connections: options.connections,
      threads: options.threads,
      warmupSeconds: options.warmup,
      roundSeconds: options.seconds,
      rounds: options.rounds,
      users: options.users,
    },
    suites,
  };
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

  const m = results.machine;
  console.log(
    [
      `# Benchmark (${options.mode}) — ${results.startedAt}`,
      '',
      `${m.cpus} × ${m.cpuModel}, Node ${m.node}. Load average (1/5/15 min) at start ${m.loadavg.start.join(' / ')}, at end ${m.loadavg.end.join(' / ')}, highest 1-min during the run ${m.loadavg.max1}.`,
      '',
      ...sections.flatMap((s) => [s, '']),
      `Results: ${path.relative(process.cwd(), options.out)}`,
    ].join('\n'),
  );
}

const round2 = (n: number) => Math.round(n * 100) / 100;

main().then(
  // Child processes are stopped by now; an idle keep-alive socket must not hold the bench open.
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
