import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import readline from 'node:readline';
import { waitForPort } from '../../lib/net/ports';

const KEPT_LINES = 30;
const STOP_GRACE_MS = 10_000;

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines it printed, for error messages. */
  lastLines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (or `signal`), then SIGKILL after a grace period. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<BenchProcess>();

// A bench stopped with Ctrl-C or dying on an error must not leave servers behind: an exit handler can only signal.
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

export function startProcess(name: string, command: string, args: string[], options: SpawnOptions = {}): BenchProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const lastLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > KEPT_LINES) lastLines.shift();
      if (process.env.BENCH_CHILD_LOGS) console.error(`[${name}] ${line}`);
    });
  }
  child.on('error', (err) => lastLines.push(`(spawn error: ${err.message})`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  let stopping: Promise<void> | undefined;
  const proc: BenchProcess = {
    name,
    child,
    pid: child.pid,
    lastLines,
    exited,
    stop: (signal = 'SIGTERM') =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        let timer: NodeJS.Timeout | undefined;
        const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS)))]);
        clearTimeout(timer);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      })()),
  };
  running.add(proc);
  return proc;
}

/**
 * The Node that runs what is measured (the facade, its anchors, the pipeline hosts): `BENCH_NODE`, e.g.
 * /usr/bin/node to compare Node versions on one machine, or the one running the bench.
 */
export const MEASURED_NODE = process.env.BENCH_NODE || process.execPath;

export const measuredNodeVersion = (): string => execFileSync(MEASURED_NODE, ['--version'], { encoding: 'utf8' }).trim();

/**
 * An entry of this repository in its own Node process (with an IPC channel as its lifeline): a `.js` file as it is,
 * a TypeScript one through tsx.
 */
export function startNodeProcess(name: string, entry: string, env: Record<string, string>, nodeFlags: string[] = []): BenchProcess {
  const args = entry.endsWith('.js') ? [entry] : ['--import', 'tsx', entry];
  return startProcess(name, MEASURED_NODE, [...nodeFlags, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

/** Resolves once the process accepts connections on `port`; fails early, with its output, if it exits first. */
export async function whenListening(proc: BenchProcess, port: number, timeoutMs = 30_000): Promise<void> {
  const exit = proc.exited.then(({ code, signal }) => {
    throw new Error(`${proc.name} exited during start-up (code ${code}, signal ${signal})\n${proc.lastLines.join('\n')}`);
  });
  exit.catch(() => undefined);
  await Promise.race([waitForPort(port, timeoutMs), exit]);
}
