import { CliError } from '../cli/errors';
import { findStack } from '../cli/stack-client';
import { formatSummary, progressLine } from '../load/format';
import { FacadeUnreachableError, LoadSetupError, runLoad } from '../load/runner';

export interface LoadFlags {
  rps?: string;
  duration?: string;
  users?: string;
  json?: boolean;
}

function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new CliError(`${name} must be an integer ${min}–${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * `strangler load`: mixed reads and writes through the facade at a fixed arrival rate, then where they went and
 * how they fared. Errors of the traffic are the result, not a failure of the command: it exits 0 once the run ran.
 */
export async function loadCommand(flags: LoadFlags): Promise<void> {
  const rps = intFlag('--rps', flags.rps, 20, 1, 5000);
  const durationSec = intFlag('--duration', flags.duration, 30, 1, 3600);
  const users = intFlag('--users', flags.users, 20, 1, 10000);
  const { facadeUrl } = findStack();
  const live = !flags.json && process.stdout.isTTY === true;

  // Ctrl-C ends the run early and still prints what was measured.
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let lineWidth = 0;
  const clearLine = () => {
    if (lineWidth > 0) process.stdout.write(`\r${' '.repeat(lineWidth)}\r`);
    lineWidth = 0;
  };
  try {
    if (live) process.stdout.write(`creating ${users} users through ${facadeUrl}…\n`);
    const summary = await runLoad({
      facadeUrl,
      rps,
      durationSec,
      users,
      signal: controller.signal,
      onTick: live
        ? (p) => {
            const line = progressLine(p);
            process.stdout.write(`\r${line.padEnd(lineWidth)}`);
            lineWidth = Math.max(lineWidth, line.length);
          }
        : undefined,
    });
    clearLine();
    process.stdout.write(flags.json ? `${JSON.stringify({ facadeUrl, ...summary }, null, 2)}\n` : formatSummary(summary, facadeUrl));
  } catch (err) {
    clearLine();
    if (err instanceof FacadeUnreachableError || err instanceof LoadSetupError) throw new CliError(err.message);
    throw err;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}
