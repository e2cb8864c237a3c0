import { formatTable } from '../cli/output';
import type { LoadProgress } from './runner';
import type { LoadSummary } from './stats';

const ms = (v: number) => `${v.toFixed(1)} ms`;
const share = (n: number, total: number) => (total > 0 ? `${((n / total) * 100).toFixed(1)}%` : '-');

export function progressLine(p: LoadProgress): string {
  const parts = [
    `${p.elapsedSec.toFixed(0)}s`,
    `sent ${p.sent}`,
    `${p.achievedRps.toFixed(1)} rps`,
    `errors ${p.errors}`,
    `p99 ${ms(p.p99Ms)}`,
    `in flight ${p.inFlight}`,
  ];
  if (p.dropped > 0) parts.push(`dropped ${p.dropped}`);
  if (p.writesPaused) parts.push('writes paused');
  return parts.join('  ');
}

export function formatSummary(s: LoadSummary, facadeUrl: string): string {
  const lines: string[] = [];
  const duration = s.target.durationSec === null ? '' : ` for ${s.target.durationSec} s`;
  lines.push(`load through ${facadeUrl} on ${s.target.contexts.join(', ')}: target ${s.target.rps} rps${duration}, as ${s.target.actors} sticky users`);
  lines.push(`keys: ${Object.entries(s.keys).map(([k, n]) => `${k} ${n}`).join(', ') || 'none needed'}`);
  for (const why of s.skipped) lines.push(`not sent: ${why}`);
  lines.push(`${s.requests} requests in ${s.elapsedSec.toFixed(1)} s = ${s.achievedRps.toFixed(1)} rps achieved${s.dropped ? `, ${s.dropped} dropped at the in-flight cap` : ''}`);
  lines.push('');
  lines.push(formatTable(['upstream', 'requests', 'share'], Object.entries(s.byUpstream).map(([k, n]) => [k, String(n), share(n, s.requests)])).trimEnd());
  lines.push('');
  lines.push(formatTable(['status', 'requests', 'share'], Object.entries(s.byStatusClass).map(([k, n]) => [k, String(n), share(n, s.requests)])).trimEnd());
  lines.push('');
  lines.push(formatTable(['route', 'requests', 'errors'], Object.entries(s.byRoute).map(([k, r]) => [k, String(r.requests), String(r.errors)])).trimEnd());
  lines.push('');
  const l = s.latencyMs;
  lines.push(`latency  p50 ${ms(l.p50)}  p95 ${ms(l.p95)}  p99 ${ms(l.p99)}  max ${ms(l.max)}`);
  lines.push(`fallbacks ${s.fallbacks}`);
  lines.push(`errors ${s.errors.total} (${share(s.errors.total, s.requests)}): ${s.errors.server} 5xx, ${s.errors.network} network`);
  for (const e of s.errors.top) lines.push(`  ${String(e.count).padStart(6)}  ${e.key}${e.message ? ` — ${e.message}` : ''}`);
  return `${lines.join('\n')}\n`;
}
