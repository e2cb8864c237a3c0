import { Command, CommanderError } from 'commander';
import { CliError } from './cli/errors';
import type { DiffsFlags } from './commands/diffs';
import type { LoadFlags } from './commands/load';
import type { DemoFlags } from './commands/demo';
import type { InitFlags } from './commands/init';

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
    .description('run the whole local stack in the foreground (Ctrl-C stops it); with a plan, only the toolkit in front of your monolith')
    .option('--fresh', 'wipe .strangler/ (databases, broker data) before starting')
    .option('--plan <file>', 'your migration plan (or STRANGLER_PLAN): start Unleash, Kafka, the CDC worker and the facade only, after checking the plan')
    .option('--workshop', 'workshop mode (or STRANGLER_WORKSHOP=1): the services accept `strangler workshop fault|bug` switches at run time')
    .action((opts: { fresh?: boolean; plan?: string; workshop?: boolean }) => import('./commands/up').then((m) => m.up(opts)));

  program
    .command('init')
    .description('draft a plan from the monolith\'s live schema: contexts from the foreign keys, coupling to break, routes from OpenAPI')
    .requiredOption('--database <url>', 'the monolith\'s database (postgres:// URL; read only)')
    .option('--openapi <file|url>', 'the monolith\'s OpenAPI document: routes are assigned to contexts, write examples drafted')
    .option('--out <file>', 'write the draft here (default: stdout, the summary on stderr)')
    .option('--monolith-url <url>', 'where the monolith answers HTTP (default http://127.0.0.1:3000)')
    .action((opts: InitFlags) => import('./commands/init').then((m) => m.initCommand(opts)));

  const plan = program.command('plan').description('work with a migration plan');
  plan
    .command('check')
    .description('one line per check: URLs answer, databases reachable and fit for CDC, tables and mapped columns, GET routes')
    .option('--plan <file>', 'the plan (default: STRANGLER_PLAN, the running stack\'s, or the shop\'s)')
    .option('--apply', 'make the changes the remedies name in your databases (REPLICA IDENTITY FULL)')
    .option('--json', 'machine-readable output')
    .action((opts: { plan?: string; apply?: boolean; json?: boolean }) => import('./commands/plan').then((m) => m.planCheckCommand(opts)));

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

  program
    .command('conflicts')
    .description("rows both sides wrote between two syncs: the table's policy, whose version stayed, both versions")
    .argument('<context>')
    .option('--limit <n>', 'how many (default 50)')
    .option('--json', 'machine-readable output')
    .action((context: string, opts: { json?: boolean; limit?: string }) => import('./commands/conflicts').then((m) => m.conflictsCommand(context, opts)));

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
    .description('the plan\'s routes through the facade at a fixed rate (reads with real keys, writes from the plan\'s examples), then requests per upstream, latency and errors')
    .option('--context <name>', 'only this context\'s routes (default: every context of the plan)')
    .option('--rps <n>', 'requests per second, 1–5000 (default 20)')
    .option('--duration <s>', 'seconds, 1–3600 (default 30)')
    .option('--users <n>', 'sticky users the requests act as (x-user-id), 1–10000 (default 20)')
    .option('--header <header>', 'add "Name: value" to every request (repeatable), e.g. the app\'s credentials', (v: string, acc: string[] = []) => [...acc, v])
    .option('--token <token>', 'Authorization for every request: "Bearer <token>", or as given when it names a scheme ("Token abc")')
    .option('--json', 'machine-readable summary (no progress line)')
    .action((opts: LoadFlags) => import('./commands/load').then((m) => m.loadCommand(opts)));

  program
    .command('demo')
    .description('the workshop smoke test: walk a context through every stage under load, with gates, a forced rollback and reconcile')
    .option('--context <name>', 'the context to walk (needed when the plan has more than one)')
    .option('--rps <n>', 'background load, requests per second (default 30)')
    .option('--yes', 'reset the context even if the demo did not put it in its stage (rollback to monolith, shadow counts cleared)')
    .option('--header <header>', 'add "Name: value" to every request (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--token <token>', 'Authorization for every request: "Bearer <token>", or as given when it names a scheme')
    .action((opts: DemoFlags) => import('./commands/demo').then((m) => m.demoCommand(opts)));

  const workshop = program
    .command('workshop')
    .description('the workshop\'s exercises (MIGRATION.md section 8): each one\'s goal and state; check one; faults and planted bugs at run time')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => import('./commands/workshop').then((m) => m.workshopListCommand(opts)));
  workshop
    .command('check')
    .description('check exercise N on the running stack: one line per check, with a hint when it fails (exit 1)')
    .argument('<n>', 'the exercise number')
    .option('--json', 'machine-readable output')
    // The parent's own --json takes the flag when it is given after the subcommand's arguments.
    .action((n: string, opts: { json?: boolean }) => import('./commands/workshop').then((m) => m.workshopCheckCommand(n, { json: opts.json || (workshop.opts() as { json?: boolean }).json })));
  workshop
    .command('fault')
    .description('make a context\'s service slow, unreachable (down) or failing (errors), or mend it (ok); workshop mode only')
    .argument('<context>')
    .argument('<fault>', 'slow | down | errors | ok')
    .option('--ms <n>', 'with slow: how late each answer is, 1–60000 (default 12000, past the facade\'s timeout)')
    .action((context: string, fault: string, opts: { ms?: string }) => import('./commands/workshop').then((m) => m.workshopFaultCommand(context, fault, opts)));
  workshop
    .command('bug')
    .description('switch a planted behaviour difference in a service on or off; workshop mode only')
    .argument('<name>', 'e.g. users-name-truncated, payments-amount-rounded')
    .argument('<state>', 'on | off')
    .action((name: string, state: string) => import('./commands/workshop').then((m) => m.workshopBugCommand(name, state)));

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
