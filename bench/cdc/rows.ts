import { ratio, type RatioResult, type RowResult } from '../report';
import { cpuUsPerRow, describeCpu, type CpuBreakdown } from './cpu-sampler';
import type { CdcVolumes } from './volumes';

export const ROW_NAMES = ['raw decode', 'source', 'debezium', 'end-to-end', 'big transaction', 'lag', 'lag at 10k', 'snapshot', 'snapshot (events)', 'COPY pipe', 'bulk load at scale'] as const;
export type CdcRowName = (typeof ROW_NAMES)[number];

const n = (x: number) => x.toLocaleString('en-US');

export function rowWhat(name: CdcRowName, v: CdcVolumes, recvlogical: string | null): string {
  switch (name) {
    case 'raw decode':
      return `pg_recvlogical${recvlogical ? ` ${recvlogical}` : ''} (Debian) → /dev/null, pgoutput proto_version=1, on its own slot: the ${n(v.burstRows)}-row burst decoded by Postgres with nothing done to it (the limit)`;
    case 'source':
      return `our CdcSource alone (pgoutput decode + Debezium envelope + produce to Kafka, acks=all, idempotent) on its own slot: the same ${n(v.burstRows)}-row burst until all is acknowledged by Kafka`;
    case 'debezium':
      return `anchor: real Debezium 3.6.1 (embedded engine, Postgres connector, pgoutput, JSON without schemas) handing its events to a KafkaProducer (acks=all, idempotent) in one JVM, on its own slot: the same ${n(v.burstRows)}-row burst until Kafka has acknowledged its last change`;
    case 'end-to-end':
      return `the shop plan's users forward pipeline (monolith users → service users, name → full_name), source + sink in one process like the CDC worker: the same burst until all ${n(v.burstRows)} rows are committed in the service table`;
    case 'big transaction':
      return `ONE monolith transaction of ${n(v.bigTxRows)} rows (INSERT … SELECT generate_series) through the running forward pipeline, source + sink in one process: from its COMMIT until all rows are in the service table, with the pipeline process's peak RSS`;
    case 'lag':
      return `${n(v.lagRate)} rows/s (transactions of ${v.lagRowsPerTx} rows) for ${v.lagSeconds} s through the running forward pipeline: monolith COMMIT → row visible in the service table; p50/p99 over transactions`;
    case 'lag at 10k':
      return `the same at ${n(v.lagHighRate)} rows/s (transactions of ${v.lagHighRowsPerTx} rows) for ${v.lagSeconds} s, right after the lag row`;
    case 'snapshot':
      return `first start of a new forward pipeline (the plan's default, snapshot: bulk) on a ${n(v.snapshotRows)}-row monolith users table: exported snapshot → COPY in parallel ctid chunks → the (empty) service table, until the pipeline streams`;
    case 'snapshot (events)':
      return `the same first start with snapshot: events (the path before the bulk load, Debezium's): exported snapshot → r events on Kafka → sink, until all rows are in the (empty) service table`;
    case 'bulk load at scale':
      return `the bulk first start again on a ${n(v.scaleRows)}-row monolith users table into the empty service table, with the pipeline process's peak RSS`;
    case 'COPY pipe':
      return `anchor: psql COPY users (…, name, …) TO STDOUT | psql COPY users (…, full_name, …) FROM STDIN, the same ${n(v.snapshotRows)} rows into the same empty service table`;
  }
}

export interface Measured {
  rows: number;
  seconds: number;
  cpu: CpuBreakdown;
  loadavg1: number;
  /** Rows missing in the target (or dead-lettered) at the end. */
  errors?: number;
  note?: string;
  details?: Record<string, unknown>;
  latency?: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  offeredRate?: number;
}

/** A CDC row: rows/s in the rate column, total CPU of the measured parts per row, the parts in the note. */
export function measuredRow(name: CdcRowName, what: string, m: Measured): RowResult {
  const cpuNote = Object.keys(m.cpu).length ? `CPU µs/row: ${describeCpu(m.cpu, m.rows)}` : '';
  const note = [m.note, cpuNote].filter(Boolean).join('; ');
  return {
    name,
    what,
    status: 'measured',
    note: note || undefined,
    rps: m.rows / m.seconds,
    p50: m.latency?.p50 ?? null,
    p90: m.latency?.p90 ?? null,
    p99: m.latency?.p99 ?? null,
    cpuUsPerRequest: cpuUsPerRow(m.cpu, m.rows),
    requests: m.rows,
    errors: m.errors ?? 0,
    rounds: [],
    ...(m.offeredRate ? { offeredRate: m.offeredRate } : {}),
    details: { seconds: round3(m.seconds), loadavg1: round3(m.loadavg1), cpuMs: m.cpu, ...(m.latency ? { latencyMs: m.latency } : {}), ...m.details },
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** An absolute latency target: the row's p99 against `limitMs` (not a ratio, so the row is compared with 1 ms). */
function lagP99(rows: RowResult[], row: CdcRowName, name: string, limitMs: number): RatioResult {
  const lag = rows.find((r) => r.name === row && r.status === 'measured');
  return {
    name,
    numerator: row,
    denominator: '1 ms',
    metric: 'p99',
    value: lag?.p99 ?? null,
    target: { op: '<=', value: limitMs },
    met: lag?.p99 == null ? null : lag.p99 <= limitMs,
  };
}

/** The issue's targets, then what helps read them. */
export function cdcRatios(rows: RowResult[]): RatioResult[] {
  return [
    ratio(rows, { name: 'end-to-end ÷ raw decode (rows/s)', numerator: 'end-to-end', denominator: 'raw decode', metric: 'rps', target: { op: '>=', value: 0.3 } }),
    lagP99(rows, 'lag', 'lag p99, commit → applied (ms, absolute)', 100),
    lagP99(rows, 'lag at 10k', 'lag at 10k p99, commit → applied (ms, absolute)', 250),
    ratio(rows, { name: 'snapshot ÷ COPY pipe (rows/s)', numerator: 'snapshot', denominator: 'COPY pipe', metric: 'rps', target: { op: '>=', value: 0.5 } }),
    // Issue 12: our source must be at least as fast as Debezium's, on the same burst into the same Kafka.
    ratio(rows, { name: 'source ÷ debezium (rows/s)', numerator: 'source', denominator: 'debezium', metric: 'rps', target: { op: '>=', value: 1 } }),
    ratio(rows, { name: 'snapshot (events) ÷ COPY pipe (rows/s)', numerator: 'snapshot (events)', denominator: 'COPY pipe', metric: 'rps' }),
    ratio(rows, { name: 'snapshot ÷ snapshot (events) (rows/s)', numerator: 'snapshot', denominator: 'snapshot (events)', metric: 'rps' }),
    ratio(rows, { name: 'source ÷ raw decode (rows/s)', numerator: 'source', denominator: 'raw decode', metric: 'rps' }),
    ratio(rows, { name: 'end-to-end ÷ source (rows/s)', numerator: 'end-to-end', denominator: 'source', metric: 'rps' }),
    ratio(rows, { name: 'source ÷ debezium (CPU per row)', numerator: 'source', denominator: 'debezium', metric: 'cpuUsPerRequest' }),
    ratio(rows, { name: 'end-to-end ÷ raw decode (CPU per row)', numerator: 'end-to-end', denominator: 'raw decode', metric: 'cpuUsPerRequest' }),
    ratio(rows, { name: 'snapshot ÷ COPY pipe (CPU per row)', numerator: 'snapshot', denominator: 'COPY pipe', metric: 'cpuUsPerRequest' }),
  ];
}
