import { Command, CommanderError } from 'commander';
import { CliError } from './cli/errors';
import { up } from './commands/up';

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
    .action((opts: { fresh?: boolean }) => up(opts));

  return program;
}

async function main(argv: string[]): Promise<void> {
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
