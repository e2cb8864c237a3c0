import type { LoadResult } from './tools/load';
import type { ProfiledRun } from './profile/render';

export interface RoundResult extends LoadResult {
  round: number;
  /** CPU time the server under test spent per request (user + system, all its processes); null where unknown. */
  cpuUsPerRequest: number | null;
  /** 1-minute load average when the round started: how busy the machine was besides the bench. */
  loadavg1: number;
}

export interface RowResult {
  name: string;
  what: string;
  status: 'measured' | 'skipped' | 'failed';
  /** Why a row was skipped or failed, or what to know when reading it. */
  note?: string;
  /** Medians over the rounds (each metric on its own); latencies in ms. */
  rps: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  cpuUsPerRequest: number | null;
  /** Summed over the rounds. */
  requests: number;
  errors: number;
  rounds: RoundResult[];
  /** Set on paced rows: the rate offered (req/s), so req/s is not the row's capacity. */
  offeredRate?: number;
  /** Row-specific observations, e.g. the canary's split or the shadow outcomes. */
  details?: Record<string, unknown>;
}

export interface RatioResult {
  name: string;
  numerator: string;
  denominator: string;
  metric: 'rps' | 'p99' | 'cpuUsPerRequest';
  value: number | null;
  target?: { op: '>=' | '<='; value: number };
  /** null when the ratio could not be computed (a row missing) or has no target. */
  met: boolean | null;
}

export interface SuiteResult {
  suite: string;
  rows: RowResult[];
  ratios: RatioResult[];
  notes: string[];
  /** CPU profiles of load runs (an anchor first, then ours), when profiling ran. */
  profiles?: ProfiledRun[];
  /** Why there are no profiles. */
  profileNote?: string;
  /** Heading of the profile section, when the default (seconds per profiled row) does not describe how it ran. */
  profileHeading?: string;
}

export interface BenchResults {
  version: 1;
  mode: string;
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    /** os.loadavg() at start and end, and the highest 1-minute value seen at any round. */
    loadavg: { start: number[]; end: number[]; max1: number };
  };
  load: { generator: string; version: string; connections: number; threads: number; warmupSeconds: number; roundSeconds: number; rounds: number; users: number };
  /** One entry per suite that ran: `facade`, `cdc`. */
  suites: Record<string, SuiteResult>;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summariseRow(name: string, what: string, rounds: RoundResult[], note?: string, details?: Record<string, unknown>): RowResult {
  return {
    name,
    what,
    status: 'measured',
    note,
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p90: median(rounds.map((r) => r.p90)),
    p99: median(rounds.map((r) => r.p99)),
    cpuUsPerRequest: median(rounds.flatMap((r) => (r.cpuUsPerRequest === null ? [] : [r.cpuUsPerRequest]))),
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    rounds,
    details,
  };
}

export function unmeasuredRow(name: string, what: string, status: 'skipped' | 'failed', note: string): RowResult {
  return { name, what, status, note, rps: null, p50: null, p90: null, p99: null, cpuUsPerRequest: null, requests: 0, errors: 0, rounds: [] };
}

export function ratio(rows: RowResult[], spec: Omit<RatioResult, 'value' | 'met' | 'name'> & { name?: string }): RatioResult {
  const get = (n: string) => rows.find((r) => r.name === n && r.status === 'measured')?.[spec.metric] ?? null;
  const a = get(spec.numerator);
  const b = get(spec.denominator);
  const value = a !== null && b !== null && b > 0 ? a / b : null;
  const met = value === null || !spec.target ? null : spec.target.op === '>=' ? value >= spec.target.value : value <= spec.target.value;
  const label = { rps: 'req/s', p99: 'p99', cpuUsPerRequest: 'CPU per request' }[spec.metric];
  const name = spec.name ?? `${spec.numerator} ÷ ${spec.denominator} (${label})`;
  return { ...spec, name, value, met };
}

const fmt = (n: number | null, digits = 0) => (n === null ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** What a row's rate counts: requests for the facade, changed rows for CDC. */
export interface RateUnit {
  /** Column label of the rate, e.g. `req/s`. */
  rate: string;
  /** Short name of one item, e.g. `req` in `CPU µs/req`. */
  item: string;
}

export const REQUESTS: RateUnit = { rate: 'req/s', item: 'req' };

export function renderSuite(suite: SuiteResult, baseline?: string, unit: RateUnit = REQUESTS): string {
  const base = baseline ? suite.rows.find((r) => r.name === baseline && r.rps) : undefined;
  const lines = [
    `| row | ${unit.rate} | p50 ms | p99 ms | errors | CPU µs/${unit.item} | × ${baseline ?? 'baseline'} ${unit.rate} | note |`,
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of suite.rows) {
    const x = base && r.rps !== null && r.offeredRate === undefined ? fmt(r.rps / base.rps!, 2) : '–';
    const note = r.status === 'measured' ? (r.note ?? '') : `${r.status}: ${r.note ?? ''}`;
    lines.push(`| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.status === 'measured' ? r.errors : '–'} | ${fmt(r.cpuUsPerRequest)} | ${x} | ${note.replace(/\|/g, '\\|')} |`);
  }
  lines.push('', '| ratio | value | target | met |', '|---|---:|---|---|');
  for (const q of suite.ratios) {
    const target = q.target ? `${q.target.op} ${q.target.value}` : '(informative)';
    const met = q.met === null ? (q.target && q.value === null ? 'not measured' : '') : q.met ? '**yes**' : '**NO**';
    lines.push(`| ${q.name} | ${fmt(q.value, 2)} | ${target} | ${met} |`);
  }
  if (suite.notes.length) lines.push('', ...suite.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}
