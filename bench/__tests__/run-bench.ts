import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run bench -- <args>` as a child process, the way a developer runs it. */
export function runBench(args: string[], env: Record<string, string>): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export const isNumber = (n: unknown) => typeof n === 'number' && Number.isFinite(n);
