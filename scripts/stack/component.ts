import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { entryArgs, PROJECT_ROOT } from '../../lib/project';
import { openLog } from './home';
import { sleep } from '../../lib/retry';

export interface ComponentSpec {
  name: string;
  /** A TypeScript entry file (`facade/src/main.ts`), run in its own Node process: compiled under dist/ (entryArgs). */
  entry: string;
  env: Record<string, string>;
  /** URL answering 200 once the component is ready. */
  healthUrl: string;
  logFile: string;
}

export type ComponentEvent =
  | { type: 'exited'; name: string; code: number | null; signal: NodeJS.Signals | null; restarting: boolean }
  | { type: 'restarted'; name: string };


/**
 * One supervised process. A crash does not take the stack down: the component is restarted with backoff (up to
 * five times in a row), and the operator is told why.
 */
export class Component {
  private child?: ChildProcess;
  private stopping = false;
  private crashes = 0;

  constructor(
    readonly spec: ComponentSpec,
    private readonly onEvent: (e: ComponentEvent) => void = () => undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.spawnChild();
    await this.waitHealthy(timeoutMs);
  }

  private spawnChild(): void {
    const out = openLog(this.spec.logFile);
    const child = spawn(process.execPath, entryArgs(this.spec.entry), {
      cwd: PROJECT_ROOT,
      env: { ...process.env, STRANGLER_PARENT_PID: String(process.pid), OTEL_SERVICE_NAME: this.spec.name, ...this.spec.env },
      stdio: ['ignore', out, out],
      detached: true,
    });
    fs.closeSync(out);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.crashes += 1;
      const restarting = this.crashes <= 5;
      this.onEvent({ type: 'exited', name: this.spec.name, code, signal, restarting });
      if (restarting) {
        setTimeout(() => {
          if (this.stopping) return;
          this.spawnChild();
          this.waitHealthy(60_000).then(
            () => {
              this.crashes = 0;
              this.onEvent({ type: 'restarted', name: this.spec.name });
            },
            () => undefined,
          );
        }, 500 * 2 ** (this.crashes - 1));
      }
    });
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const child = this.child;
    while (Date.now() < deadline) {
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.spec.name} exited during start-up: ${lastLines(this.spec.logFile)}`);
      }
      try {
        const res = await fetch(this.spec.healthUrl, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.spec.name} was not healthy at ${this.spec.healthUrl} after ${timeoutMs} ms: ${lastLines(this.spec.logFile)}`);
  }

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/** The last meaningful log line, shortened: enough for a one-line reason. */
export function lastLines(file: string, n = 3): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n);
    return lines
      .map((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; err?: { message?: string } };
          return j.err?.message ? `${j.msg}: ${j.err.message}` : (j.msg ?? l);
        } catch {
          return l;
        }
      })
      .join(' | ')
      .slice(0, 400);
  } catch {
    return '(no log)';
  }
}
