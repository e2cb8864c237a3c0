/** A plain aligned table for terminals (and logs: no colours, no box drawing). */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** What `strangler status` shows of a pipeline's initial snapshot (the worker API's `source.snapshot`). */
export interface SnapshotProgressView {
  mode: 'bulk' | 'events';
  rows: number;
  totalRows: number | null;
  rowsPerSecond: number;
  etaSeconds: number | null;
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * `[#########-----------]  45%  450,000 / 1,000,000 rows  95,000 rows/s  ETA 6 s`. The total is the planner's
 * estimate, so the bar stops at 99 % until the load says it is done; without an estimate only the counts show.
 */
export function formatSnapshotProgress(p: SnapshotProgressView, width = 20): string {
  const rate = `${thousands(p.rowsPerSecond)} rows/s`;
  const label = p.mode === 'bulk' ? 'bulk load' : 'snapshot events';
  if (!p.totalRows || p.totalRows <= 0) return `${label}: ${thousands(p.rows)} rows  ${rate}`;
  const share = Math.min(0.99, p.rows / p.totalRows);
  const filled = Math.round(share * width);
  const eta = p.etaSeconds === null ? '' : `  ETA ${p.etaSeconds} s`;
  return `${label}: [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%  ${thousands(p.rows)} / ${thousands(p.totalRows)} rows  ${rate}${eta}`;
}
