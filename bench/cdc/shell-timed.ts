import { startProcess } from '../tools/processes';

/**
 * Runs a shell command line and reports its wall time and the CPU its processes used (the shell's `times`: user +
 * system of its finished children, 10 ms resolution). Such processes exit before /proc could be read at the end.
 */
export async function runTimed(name: string, script: string, args: string[]): Promise<{ seconds: number; cpuMs: number | null }> {
  // "$0" is the first argument after the script; `times` prints the shell's line, then its children's.
  const wrapped = `${script}\nstatus=$?\ntimes >&2\nexit $status`;
  const began = performance.now();
  const proc = startProcess(name, 'sh', ['-c', wrapped, ...args]);
  // 'close', not 'exit': only then has all of its output been read.
  const closed = new Promise<void>((resolve) => proc.child.once('close', () => resolve()));
  const { code, signal } = await proc.exited;
  await closed;
  const seconds = (performance.now() - began) / 1000;
  const lines = proc.lastLines;
  if (code !== 0) throw new Error(`${name} failed (code ${code}, signal ${signal}): ${lines.slice(-6).join(' / ')}`);
  const children = lines.filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l)).at(-1);
  return { seconds, cpuMs: children ? parseTimes(children) : null };
}

function parseTimes(line: string): number {
  return line
    .split(' ')
    .map((part) => /^(\d+)m([\d.]+)s$/.exec(part)!)
    .reduce((ms, m) => ms + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
}
