import fs from 'node:fs';
import type { Client } from 'pg';
import { processCpuMs } from '../tools/cpu';
import { BENCH_APP } from './databases';

/**
 * Where a row's CPU went: our pipeline process (or pg_recvlogical / psql / Debezium's JVM for the anchors), the
 * walsender that decodes for it, the other Postgres backends it uses (snapshot reader, sink writes, status queries), the broker.
 */
export type CpuPart = 'pipeline' | 'client' | 'jvm' | 'walsender' | 'postgres' | 'kafka';
export type CpuBreakdown = Partial<Record<CpuPart, number>>;

const isLocalPostgres = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
};

/**
 * CPU time (ms) per part over a measured span, from /proc. Backends come and go (a walsender lives as long as its
 * replication connection), so they are looked up in pg_stat_activity every few tens of ms and the last value seen
 * counts; one that exits between two looks loses at most that interval. Only works where Postgres runs on this
 * machine; elsewhere the Postgres parts are simply absent.
 */
export class CpuSampler {
  private readonly seen = new Map<number, { part: CpuPart; first: number; last: number }>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private baseline = true;

  constructor(
    private readonly control: Client,
    private readonly databases: string[],
    private readonly fixed: { pid: number; part: CpuPart }[],
    private readonly intervalMs = 50,
  ) {}

  async begin(): Promise<void> {
    await this.tick();
    this.baseline = false;
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, this.intervalMs);
    // A row that fails never calls end(): its sampler must not keep the bench alive.
    this.timer.unref();
  }

  /** CPU ms per part since `begin`, plus what the caller measured itself (a client's own `times`). */
  async end(extra: CpuBreakdown = {}): Promise<CpuBreakdown> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.tick();
    const out: CpuBreakdown = { ...extra };
    for (const s of this.seen.values()) out[s.part] = (out[s.part] ?? 0) + Math.max(0, s.last - s.first);
    return out;
  }

  private note(pid: number, part: CpuPart): void {
    const ms = processCpuMs(pid);
    if (ms === undefined) return;
    const s = this.seen.get(pid);
    if (s) s.last = ms;
    // Seen at the start: only what it does from now on counts. Born later: all of it is this span's.
    else this.seen.set(pid, { part, first: this.baseline ? ms : 0, last: ms });
  }

  private async tick(): Promise<void> {
    for (const f of this.fixed) this.note(f.pid, f.part);
    try {
      const { rows } = await this.control.query<{ pid: number; walsender: boolean }>(
        `SELECT pid, backend_type = 'walsender' AS walsender FROM pg_stat_activity
          WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND coalesce(application_name, '') NOT LIKE $2`,
        [this.databases, `${BENCH_APP}%`],
      );
      for (const r of rows) if (this.seen.has(r.pid) || isLocalPostgres(r.pid)) this.note(r.pid, r.walsender ? 'walsender' : 'postgres');
    } catch {
      // The control connection is busy or gone: this tick only misses the backends' values.
    }
  }
}

/** Total CPU µs per row of the parts measured, or null when none was. */
export function cpuUsPerRow(cpu: CpuBreakdown, rows: number): number | null {
  const parts = Object.values(cpu);
  if (!parts.length || rows <= 0) return null;
  return (parts.reduce((a, b) => a + b, 0) * 1000) / rows;
}

/** `pipeline 12.3, walsender 4.5, …` in µs per row, for a row's note. */
export function describeCpu(cpu: CpuBreakdown, rows: number): string {
  const order: CpuPart[] = ['client', 'pipeline', 'jvm', 'walsender', 'postgres', 'kafka'];
  const names: Record<CpuPart, string> = { client: 'client', pipeline: 'node', jvm: 'jvm', walsender: 'walsender', postgres: 'pg backends', kafka: 'kafka' };
  return order
    .filter((p) => cpu[p] !== undefined)
    .map((p) => `${names[p]} ${((cpu[p]! * 1000) / rows).toFixed(1)}`)
    .join(', ');
}
