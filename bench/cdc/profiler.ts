import fs from 'node:fs';
import path from 'node:path';
import type { ProfiledRun } from '../profile/render';
import { summarizeFile } from '../profile/summarize';
import { firstLine } from './context';
import { PipelineHost } from './host';

const INCLUSIVE = new Set(['lib', 'kafkajs', 'pg', 'pg-logical-replication', 'pg-protocol']);
const ours = (category: string) => category.startsWith('cdc/') || INCLUSIVE.has(category);

interface Window {
  row: string;
  rows: number;
  fromUs: number;
  toUs: number;
  seconds: number;
}

/**
 * Profiled re-runs of pipeline rows, apart from the measured ones so the profiler never touches their figures: a
 * second pipeline host under --cpu-prof, started with the measured one and idle until a profiled run. One process,
 * so one profile file; each window's summary keeps only the samples taken inside it (V8's sample clock and
 * process.hrtime are the same monotonic clock). A failure is noted, never thrown: profiles explain the table, they
 * are not part of it.
 */
export class Profiler {
  readonly failures: string[] = [];
  private readonly windows: Window[] = [];
  private stopped = false;

  private constructor(
    readonly host: PipelineHost,
    private readonly runDir: string,
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(dir: string, brokers: string, log: (line: string) => void): Promise<Profiler> {
    // Node writes a profile per thread (tsx's loader runs in a worker): a folder of its own, the main thread's kept.
    const runDir = path.join(dir, `cdc-run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    fs.mkdirSync(runDir, { recursive: true });
    const host = await PipelineHost.start(brokers, ['--cpu-prof', `--cpu-prof-dir=${runDir}`], 'pipeline host (profiled)');
    return new Profiler(host, runDir, dir, log);
  }

  /** Profiles `fn` as `row`: only the samples taken while it runs count, put per row of `rows`. */
  async window(row: string, rows: number, fn: () => Promise<void>): Promise<void> {
    try {
      const from = process.hrtime.bigint();
      await fn();
      const to = process.hrtime.bigint();
      this.windows.push({ row, rows, fromUs: Number(from / 1000n), toUs: Number(to / 1000n), seconds: Number(to - from) / 1e9 });
    } catch (err) {
      this.failures.push(`${row}: ${firstLine(err)}`);
      this.log(`profiling ${row} failed: ${firstLine(err)}`);
    }
  }

  /** Stops the host (it writes its profile on exit) and summarises each window. */
  async finish(): Promise<ProfiledRun[]> {
    await this.stop();
    if (!this.windows.length) return [];
    try {
      const mainThread = new RegExp(`\\.${this.host.pid}\\.0\\.\\d+\\.cpuprofile$`);
      const written = fs.readdirSync(this.runDir).find((f) => mainThread.test(f));
      if (!written) throw new Error(`the profiled pipeline host wrote no main-thread profile to ${this.runDir}`);
      const file = path.join(this.dir, `cdc-pipeline-${path.basename(this.runDir).slice('cdc-run-'.length)}.cpuprofile`);
      fs.renameSync(path.join(this.runDir, written), file);
      return this.windows.map((w) => ({
        row: w.row,
        requests: w.rows,
        rps: w.rows / w.seconds,
        p99: 0,
        unit: 'row',
        inclusiveLabel: 'our CDC code, lib, kafkajs, pg',
        ...summarizeFile(file, { window: { fromUs: w.fromUs, toUs: w.toUs }, top: 20, inclusive: ours }),
      }));
    } catch (err) {
      this.failures.push(firstLine(err));
      return [];
    } finally {
      fs.rmSync(this.runDir, { recursive: true, force: true });
    }
  }

  private async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.host.stop();
  }

  /** The clean-up path (also after `finish`): the host stopped, its files gone. */
  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}
