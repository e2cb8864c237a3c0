import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');

export interface Child {
  readonly pid: number;
  readonly process: ChildProcess;
  /** Everything the child printed so far (stdout + stderr). */
  output(): string;
  /** SIGKILL: no handler runs, no buffer is flushed, sockets are cut by the kernel. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

let pdeathsig: boolean | undefined;

/**
 * util-linux `setpriv --pdeathsig KILL` makes the kernel kill the child when the Jest worker dies, however it dies:
 * a fault test that crashes must not leave a pipeline process writing into the next run's databases.
 */
function command(args: string[]): [string, string[]] {
  pdeathsig ??= spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' }).status === 0;
  return pdeathsig ? ['setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, ...args]] : [process.execPath, args];
}

const live = new Set<Child>();

/**
 * Runs a TypeScript entry (through tsx, as `npx strangler` does) in its own process and resolves once it printed
 * `ready` (or right away without one).
 */
export function startTsChild(entry: string, env: Record<string, string>, options: { ready?: string | RegExp; timeoutMs?: number } = {}): Promise<Child> {
  const [cmd, args] = command(['--import', 'tsx', path.resolve(REPO, entry)]);
  const proc = spawn(cmd, args, { cwd: REPO, env: { ...process.env, LOG_LEVEL: process.env.FAULT_CHILD_LOG_LEVEL ?? 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    if (process.env.FAULT_CHILD_LOG_LEVEL) process.stderr.write(d);
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  const child: Child = {
    pid: proc.pid!,
    process: proc,
    output: () => out,
    async kill9() {
      if (!gone()) proc.kill('SIGKILL');
      await exited;
      live.delete(child);
    },
    async stop(graceMs = 10_000) {
      if (!gone()) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      live.delete(child);
    },
  };
  live.add(child);
  const ready = options.ready;
  if (ready === undefined) return Promise.resolve(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print ${String(ready)} within ${options.timeoutMs ?? 60_000} ms`), options.timeoutMs ?? 60_000);
    const seen = () => (typeof ready === 'string' ? out.includes(ready) : ready.test(out));
    const onData = () => {
      if (!seen()) return;
      cleanup();
      resolve(child);
    };
    const onExit = (code: number | null, signal: string | null) => fail(`exited (${code ?? signal}) before it was ready`);
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
    };
    function fail(why: string) {
      cleanup();
      void child.kill9().then(() => reject(new Error(`${entry} ${why}; output:\n${out.slice(-4000)}`)));
    }
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
    onData();
  });
}

/** For afterAll: whatever a failed test left running. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill9()));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
