import fs from 'node:fs';
import path from 'node:path';
import type { ProfiledRun } from '../profile/render';
import { summarizeFile } from '../profile/summarize';
import type { LoadResult } from '../tools/load';

export interface Profilable {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * One load run against a fresh process started with `--cpu-prof`. The profile covers the whole process life, so
 * the summary keeps only the samples taken while the load ran (V8's sample clock and process.hrtime are both the
 * monotonic clock): start-up (tsx compiling, module loading) and shutdown would otherwise count too.
 */
export async function profileRun(o: {
  row: string;
  start: (nodeFlags: string[]) => Promise<Profilable>;
  path: string;
  seconds: number;
  dir: string;
  load: (url: string, seconds: number) => Promise<LoadResult>;
}): Promise<ProfiledRun> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Node writes one profile per thread (tsx's loader hooks run in a worker), so each run gets its own folder and
  // the main thread's file is picked by name afterwards.
  const runDir = path.join(o.dir, `run-${stamp}`);
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(o.dir, `${o.row.replace(/\//g, '-')}-${stamp}.cpuprofile`);
  const proc = await o.start(['--cpu-prof', `--cpu-prof-dir=${runDir}`]);
  let result: LoadResult;
  let window: { fromUs: number; toUs: number };
  try {
    await o.load(`${proc.url}${o.path}`, 1);
    const from = process.hrtime.bigint();
    result = await o.load(`${proc.url}${o.path}`, o.seconds);
    window = { fromUs: Number(from / 1000n), toUs: Number(process.hrtime.bigint() / 1000n) };
  } finally {
    // SIGTERM: the process exits normally, which is when Node writes the profile.
    await proc.stop();
  }
  // Default names are CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread 0.
  const mainThread = new RegExp(`\\.${proc.pid}\\.0\\.\\d+\\.cpuprofile$`);
  const written = fs.readdirSync(runDir).find((f) => mainThread.test(f));
  if (!written) throw new Error(`${o.row} exited without writing its main-thread profile to ${runDir}`);
  fs.renameSync(path.join(runDir, written), file);
  fs.rmSync(runDir, { recursive: true, force: true });
  return { row: o.row, requests: result.requests, rps: result.rps, p99: result.p99, ...summarizeFile(file, { window, top: 20 }) };
}
