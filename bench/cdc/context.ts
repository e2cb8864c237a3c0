import type { Client } from 'pg';
import type { PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import type { RowResult } from '../report';
import { unmeasuredRow } from '../report';
import type { Mode } from '../options';
import type { CpuPart, CpuSampler } from './cpu-sampler';
import type { ShopDatabases } from './databases';
import type { PipelineHost } from './host';
import type { PipelineRole } from './pipelines';
import { rowWhat, type CdcRowName } from './rows';
import type { CdcVolumes } from './volumes';

/** What every phase of the CDC suite works with; the suite builds it once and tears it down. */
export interface CdcRun {
  volumes: CdcVolumes;
  tag: string;
  brokers: string;
  dbs: ShopDatabases;
  /** The bench's own connections to the monolith's and the service's databases. */
  monolith: Client;
  service: Client;
  host: PipelineHost;
  pipeline(role: PipelineRole): PipelineDefinition;
  /**
   * A CPU sampler over both databases' backends and, unless the row is an anchor that does not use them, the
   * pipeline host and the broker (when ours): idle, they would only add their background noise to an anchor.
   */
  sampler(pipeline?: boolean, extra?: { pid: number; part: CpuPart }[]): CpuSampler;
  recvlogical: string | null;
  log: (line: string) => void;
  sampleLoad(): number;
  /** The run's mode and the rows named with --rows: the debezium row stays out of --smoke unless named. */
  mode?: Mode;
  namedRows?: string[];
  /** The broker's JVM when the bench started it (its CPU counts for rows that produce), else null. */
  kafkaPid?: number | null;
  /** Runs at the suite's clean-up (also when interrupted), before the databases and servers go. */
  onCleanup?(close: () => Promise<void>): void;
}

export const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** Runs one row's measurement; a failure becomes a failed row saying why, and the suite goes on. */
export async function measure(run: CdcRun, name: CdcRowName, fn: () => Promise<RowResult>): Promise<RowResult> {
  try {
    const row = await fn();
    run.log(`${name}: ${row.rps === null ? '–' : Math.round(row.rps).toLocaleString('en-US')} rows/s${row.p99 !== null ? `, p50 ${row.p50?.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms` : ''}${row.note ? ` (${row.note})` : ''}`);
    return row;
  } catch (err) {
    run.log(`${name} failed: ${firstLine(err)}`);
    return unmeasuredRow(name, rowWhat(name, run.volumes, run.recvlogical), 'failed', firstLine(err));
  }
}
