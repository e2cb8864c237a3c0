import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A private `.strangler/` home that the postgres OS user can traverse when tests run as root. */
export function tempStackHome(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-home-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface CliRun {
  child: ChildProcess;
  output(): string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `strangler …` exactly as `npx strangler` would (the compiled CLI, real processes; the global setup rebuilds
 * dist/ when a source changed), capturing stdout+stderr.
 */
export function runCli(args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/bin/strangler.cjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    async waitFor(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const matches = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      while (!matches()) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`did not see ${String(text)}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    exited: () => exit,
  };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
