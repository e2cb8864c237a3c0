import type { ComponentEvent } from '../stack/component';
import { LocalStack, StackError } from '../stack/local-stack';
import { CliError } from '../cli/errors';
import { formatTable } from '../cli/output';

export interface UpOptions {
  fresh?: boolean;
  plan?: string;
  workshop?: boolean;
}

/**
 * `strangler up`: the whole local stack in the foreground (the shop demo), or with a plan only the toolkit's parts
 * in front of the plan's monolith and services. Ctrl-C stops it in reverse order; a failure at start
 * stops what had started and exits non-zero with one line saying why.
 */
export async function up(options: UpOptions): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const planFile = options.plan || process.env.STRANGLER_PLAN || undefined;
  const workshop = Boolean(options.workshop) || process.env.STRANGLER_WORKSHOP === '1';
  const stack = new LocalStack({ fresh: options.fresh, planFile, workshop, log, onComponentEvent: report });
  let stopping: Promise<void> | undefined;
  const onSignal = () => {
    process.stdout.write('\n');
    stopping ??= stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let state;
  try {
    state = await stack.start();
  } catch (err) {
    // Ctrl-C during start-up: the half-started stack is being stopped; its start failing is expected, not news.
    if (stopping) return void (await stopping);
    throw new CliError(err instanceof StackError ? err.message : `stack failed to start: ${(err as Error).message}`);
  }
  log('\nstrangler stack is up\n');
  process.stdout.write(formatTable(['component', 'address', 'notes'], stack.rows.map((r) => [r.component, r.address, r.notes])));
  log('');
  log(`facade            ${state.facadeUrl}   (send your traffic here)`);
  log(`dashboard         ${state.facadeUrl}/_strangler/`);
  log(`admin token       ${state.adminToken}`);
  log(`Unleash UI        ${(state.unleash as { url: string }).url}   login admin / unleash4all`);
  log('');
  if (workshop) log('workshop mode      on: `npx strangler workshop` lists the exercises; faults and planted bugs switch at run time');
  if (planFile) log(`plan              ${planFile} (flags made for: ${(state.contexts ?? []).join(', ')})`);
  log(`In another terminal: npx strangler status   |   npx strangler demo --context ${state.contexts?.[0] ?? '<context>'}`);
  log('Ctrl-C stops everything.');
}

function report(e: ComponentEvent): void {
  if (e.type === 'exited') {
    process.stderr.write(`! ${e.name} exited (code ${e.code ?? '-'}, signal ${e.signal ?? '-'})${e.restarting ? ', restarting' : ', giving up'}\n`);
  } else {
    process.stderr.write(`✓ ${e.name} restarted\n`);
  }
}
