import { Command, CommanderError } from 'commander';
import { CliError } from './cli/errors';
import type { DiffsFlags } from './commands/diffs';
import type { LoadFlags } from './commands/load';

// Each command's module is loaded when it runs: between them they pull in pg, kafkajs, Unleash's client and the
// whole stack, which `--help` or `status` never need (start-up time is what a user feels at every step).
const stage = () => import('./commands/stage');

/** The operator's verbs. Every error is one clear line and a non-zero exit. */
export function buildProgram(): Command {
  const program = new Command('strangler')
    .description('Step a monolith to microservices one context at a time: local stack, stages, diffs and data sync.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('up')
    .description('run the whole local stack in the foreground (Ctrl-C stops it)')
    .option('--fresh', 'wipe .strangler/ (databases, broker data) before starting')
    .action((opts: { fresh?: boolean }) => import('./commands/up').then((m) => m.up(opts)));

  program
    .command('status')
    .description('per context: stage, traffic share, shadow diffs, pipelines, breaker, and the next stage\'s gates')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => import('./commands/status').then((m) => m.statusCommand(opts)));

  program
    .command('stage')
    .description('move a context to a stage (forward moves check the gates; rollbacks are never blocked)')
    .argument('<context>', 'a context of the plan, e.g. users')
    .argument('<stage>', 'monolith | shadow | canary | cutover | retired')
    .option('--percent <n>', 'canary share of traffic, 1–99 (default 10)')
    .option('--force', 'move even if a gate fails')
    .option('--reason <text>', 'why, kept in the stage history')
    .option('--json', 'machine-readable output')
    .action((context: string, target: string, opts: { percent?: string; force?: boolean; json?: boolean; reason?: string }) => stage().then((m) => m.stageCommand(context, target, opts)));

  program
    .command('advance')
    .description('move a context to its next stage (canary 10 %, then 50 %, then cutover, then retired)')
    .argument('<context>')
    .option('--force', 'move even if a gate fails')
    .option('--reason <text>', 'why, kept in the stage history')
    .option('--json', 'machine-readable output')
    .action((context: string, opts: { force?: boolean; json?: boolean; reason?: string }) => stage().then((m) => m.advanceCommand(context, opts)));

  program
    .command('rollback')
    .description('move a context back one stage (never blocked)')
    .argument('<context>')
    .option('--reason <text>', 'why, kept in the stage history')
    .option('--json', 'machine-readable output')
    .action((context: string, opts: { json?: boolean; reason?: string }) => stage().then((m) => m.rollbackCommand(context, opts)));

  program
    .command('history')
    .description('every stage move, newest first: when, who (cli, dashboard, api, auto-rollback, unleash), from → to, gates, reason, force')
    .argument('[context]', 'only this context')
    .option('--limit <n>', 'how many (default 20)')
    .option('--json', 'machine-readable output')
    .action((context: string | undefined, opts: { json?: boolean; limit?: string }) => import('./commands/history').then((m) => m.historyCommand(context, opts)));

  const diffs = program
    .command('diffs')
    .description('the latest shadow differences of a context; --group: grouped by route and JSON path, with counts')
    .argument('<context>')
    .option('--group', 'group by route, then JSON path (count, share of comparisons, first/last seen, examples)')
    .option('--examples <n>', 'with --group: value pairs shown per path, 1–20 (default 3)')
    .option('--limit <n>', 'how many diffs, or with --group how many paths (default 20)')
    .option('--json', 'machine-readable output')
    .action((context: string, opts: DiffsFlags) => import('./commands/diffs').then((m) => m.diffsCommand(context, opts)));
  diffs
    .command('reset')
    .description('forget a context\'s shadow diffs and counts (after fixing the service), so the diff rate starts over')
    .argument('<context>')
    .action((context: string) => import('./commands/diffs').then((m) => m.diffsResetCommand(context)));

  program
    .command('reconcile')
    .description('compare the monolith\'s and the service\'s tables of a context through the plan\'s mapping (exit 1 when they differ)')
    .argument('<context>')
    .option('--limit <n>', 'how many keys to list per kind of difference (default 20)')
    .option('--json', 'machine-readable output')
    .action((context: string, opts: { json?: boolean; limit?: string }) => import('./commands/reconcile').then((m) => m.reconcileCommand(context, opts)));

  program
    .command('load')
    .description('mixed reads and writes through the facade at a fixed rate, then requests per upstream, latency and errors')
    .option('--rps <n>', 'requests per second, 1–5000 (default 20)')
    .option('--duration <s>', 'seconds, 1–3600 (default 30)')
    .option('--users <n>', 'users created for the run and acted as, 1–10000 (default 20)')
    .option('--json', 'machine-readable summary (no progress line)')
    .action((opts: LoadFlags) => import('./commands/load').then((m) => m.loadCommand(opts)));

  program
    .command('demo')
    .description('the workshop smoke test: walk a context through every stage under load, with gates, a forced rollback and reconcile')
    .option('--context <name>', 'the context to walk (default users)')
    .option('--rps <n>', 'background load, requests per second (default 30)')
    .action((opts: { context?: string; rps?: string }) => import('./commands/demo').then((m) => m.demoCommand(opts)));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    const message = err instanceof CliError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`strangler: ${message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  }
}

if (require.main === module) void main(process.argv);
