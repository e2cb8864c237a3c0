import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseConfig } from '../lib/config';

/** full: the figures for BENCHMARKS.md; quick: ≈ 7 s per row (≈ 1¼ min of load); smoke: ≈ 1 s per row, to check the output's shape. */
export type Mode = 'full' | 'quick' | 'smoke';

const PRESETS: Record<Mode, { warmup: number; seconds: number; rounds: number; profileSeconds: number }> = {
  full: { warmup: 10, seconds: 10, rounds: 5, profileSeconds: 20 },
  quick: { warmup: 1, seconds: 2, rounds: 3, profileSeconds: 3 },
  smoke: { warmup: 1, seconds: 1, rounds: 1, profileSeconds: 1 },
};

const positiveInt = z.coerce.number().int().min(1);

const schema = z.object({
  mode: z.enum(['full', 'quick', 'smoke']),
  suites: z.array(z.string().min(1)).min(1),
  rows: z.array(z.string().min(1)).optional(),
  warmup: z.coerce.number().int().min(0),
  seconds: positiveInt,
  rounds: positiveInt,
  connections: positiveInt,
  threads: positiveInt,
  users: positiveInt,
  profile: z.boolean(),
  profileSeconds: positiveInt,
  out: z.string().min(1),
  profileDir: z.string().min(1),
});

export type BenchOptions = z.infer<typeof schema>;

export const USAGE = `usage: npm run bench -- [--quick | --smoke] [options]
  --quick                 ≈ 1¼ minutes of load (1 s warm-up, 3 rounds of 2 s per row)
  --smoke                 ≈ 1 s per row: checks that everything runs, numbers mean little
  --suite <names>         comma-separated suites to run (default: all registered: facade, cdc)
  --rows <names>          comma-separated rows (default: all); a cdc row runs its whole phase: --suite cdc --rows snapshot
                          runs the snapshot, snapshot (events) and COPY pipe rows
  --warmup, --seconds, --rounds <n>   override the mode's warm-up, round length (s) and round count
  --connections <n>       wrk connections (default 32)
  --threads <n>           wrk threads (default 2: one per core here)
  --users <n>             size of the x-user-id pool (default 1000)
  --no-profile            skip the --cpu-prof runs (facade, and the CDC pipeline's)
  --profile-seconds <n>   length of the profiled run
  --out <file>            results JSON (default bench/results.json)
  --profile-dir <dir>     where .cpuprofile files go (default bench/profiles)
environment:
  BENCH_PG_URL            an existing Postgres (superuser, wal_level=logical) instead of an embedded one
  BENCH_KAFKA_BROKERS     an existing Kafka (host:port[,…]) for the cdc suite instead of starting one
  BENCH_NODE              the Node binary for what is measured (facade, anchors, pipeline hosts), e.g. /usr/bin/node
  BENCH_CHILD_LOGS=1      show the output of every process the bench starts`;

export function parseOptions(argv: string[], allSuites: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      smoke: { type: 'boolean' },
      dry: { type: 'boolean' },
      suite: { type: 'string' },
      rows: { type: 'string' },
      warmup: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      users: { type: 'string' },
      'no-profile': { type: 'boolean' },
      'profile-seconds': { type: 'string' },
      out: { type: 'string' },
      'profile-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const mode: Mode = values.smoke || values.dry ? 'smoke' : values.quick ? 'quick' : 'full';
  const preset = PRESETS[mode];
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
  return parseConfig(
    schema.refine((o) => o.suites.every((s) => allSuites.includes(s)), { message: `unknown suite; known: ${allSuites.join(', ')}`, path: ['suites'] }),
    {
      mode,
      suites: list(values.suite) ?? allSuites,
      rows: list(values.rows),
      warmup: values.warmup ?? preset.warmup,
      seconds: values.seconds ?? preset.seconds,
      rounds: values.rounds ?? preset.rounds,
      connections: values.connections ?? 32,
      threads: values.threads ?? 2,
      users: values.users ?? 1000,
      profile: !values['no-profile'],
      profileSeconds: values['profile-seconds'] ?? preset.profileSeconds,
      out: path.resolve(values.out ?? path.join(__dirname, 'results.json')),
      profileDir: path.resolve(values['profile-dir'] ?? path.join(__dirname, 'profiles')),
    },
    'bench options',
  );
}
