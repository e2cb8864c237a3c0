import type { ProfileSummary } from './summarize';

/** A profiled load run: the summary plus what the load generator saw, so time can be put per request. */
export interface ProfiledRun extends ProfileSummary {
  row: string;
  /** Units of work done while sampled: requests, or changed rows for CDC (see `unit`). */
  requests: number;
  rps: number;
  p99: number;
  /** What `requests` counts, singular ("request" when absent). */
  unit?: string;
  /** What the inclusive table lists (the facade's selection when absent). */
  inclusiveLabel?: string;
}

const perRequest = (ms: number, requests: number) => (requests > 0 ? ((ms * 1000) / requests).toFixed(1) : '–');
const short = (unit: string) => (unit === 'request' ? 'req' : unit);

export function renderProfile(s: ProfileSummary & { unit?: string; inclusiveLabel?: string }, requests = 0): string {
  const us = requests > 0;
  const unit = s.unit ?? 'request';
  const col = (ms: number) => (us ? ` ${perRequest(ms, requests)} |` : '');
  return [
    `Busy ${s.busyMs.toLocaleString('en-US')} ms of ${s.totalMs.toLocaleString('en-US')} ms sampled${s.windowed ? ' while the load ran' : ''}${us ? ` (${requests.toLocaleString('en-US')} ${unit}s)` : ''}; shares are of busy time.`,
    '',
    `| top self-time function | category | where |${us ? ` µs/${short(unit)} |` : ''} % |`,
    `|---|---|---|${us ? '---:|' : ''}---:|`,
    ...s.topSelf.map((e) => `| ${e.name} | ${e.category} | ${e.where} |${col(e.ms)} ${e.pct} |`),
    '',
    `| inclusive: ${s.inclusiveLabel ?? 'our code, proxy engine, metrics, flags'} | where |${us ? ` µs/${short(unit)} |` : ''} % |`,
    `|---|---|${us ? '---:|' : ''}---:|`,
    ...s.topInclusive.map((e) => `| ${e.name} | ${e.where} |${col(e.ms)} ${e.pct} |`),
  ].join('\n');
}

/** Self time per category and request, one column per profiled run: where the extra microseconds of a row go. */
export function renderComparison(runs: ProfiledRun[]): string {
  const categories = [...new Set(runs.flatMap((r) => r.byCategory.map((c) => c.category)))];
  const at = (r: ProfiledRun, cat: string) => r.byCategory.find((c) => c.category === cat)?.ms ?? 0;
  const value = (r: ProfiledRun, ms: number) => (r.requests > 0 ? (ms * 1000) / r.requests : 0);
  const base = runs[0];
  const rows = categories
    .map((cat) => ({ cat, values: runs.map((r) => value(r, at(r, cat))) }))
    .filter((row) => row.values.some((v) => v >= 0.5))
    .sort((a, b) => b.values[b.values.length > 1 ? 1 : 0] - a.values[a.values.length > 1 ? 1 : 0]);
  // The second run (ours) against the first (the anchor): the microseconds to win back.
  const delta = (vals: number[]) => (runs.length > 1 ? ` ${vals[1] - vals[0] >= 0 ? '+' : ''}${(vals[1] - vals[0]).toFixed(1)} |` : '');
  const total = runs.map((r) => value(r, r.busyMs));
  const unit = base.unit ?? 'request';
  return [
    `| self time, µs per ${unit} | ${runs.map((r) => r.row).join(' | ')} |${runs.length > 1 ? ` ${runs[1].row} − ${base.row} |` : ''}`,
    `|---|${runs.map(() => '---:').join('|')}|${runs.length > 1 ? '---:|' : ''}`,
    ...rows.map((row) => `| ${row.cat} | ${row.values.map((v) => v.toFixed(1)).join(' | ')} |${delta(row.values)}`),
    `| **busy, all** | ${total.map((v) => `**${v.toFixed(1)}**`).join(' | ')} |${delta(total)}`,
    `| ${unit === 'request' ? 'req' : `${unit}s`}/s under the profiler | ${runs.map((r) => Math.round(r.rps).toLocaleString('en-US')).join(' | ')} |${runs.length > 1 ? ' |' : ''}`,
  ].join('\n');
}
