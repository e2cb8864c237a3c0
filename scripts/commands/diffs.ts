import { cliDeps } from '../cli/deps';
import { requestJson } from '../cli/stack-client';
import { CliError } from '../cli/errors';
import type { StackConnection } from '../cli/stack-client';
import { contextOrFail, parseLimit } from './common';
import type { DiffGroups } from '../../facade/src/shadow/diff-groups';

interface Diff {
  id: string;
  route: string;
  method: string;
  path: string;
  requestId: string | null;
  monolithStatus: number | null;
  serviceStatus: number | null;
  diffs: { path: string; monolith: unknown; service: unknown }[];
  createdAt: string;
}

export interface DiffsFlags {
  json?: boolean;
  limit?: string;
  group?: boolean;
  examples?: string;
}

/** `strangler diffs <context>`: the latest shadow differences, newest first, with both values per JSON path. */
export async function diffsCommand(context: string, opts: DiffsFlags): Promise<void> {
  const limit = parseLimit(opts.limit, 20);
  if (opts.examples !== undefined && !opts.group) throw new CliError('--examples only applies with --group');
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  if (opts.group) {
    await groupedDiffs(deps.conn, context, limit, opts);
    return;
  }
  const url = `${deps.conn.facadeUrl}/_strangler/diffs?context=${encodeURIComponent(context)}&limit=${limit}`;
  const { items, findings = [] } = await requestJson<{ items: Diff[]; findings?: { severity: string; code: string; message: string }[] }>(url, {
    token: deps.conn.adminToken,
    what: 'facade',
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ context, findings, items }, null, 2)}\n`);
    return;
  }
  for (const f of findings) process.stdout.write(`${f.severity.toUpperCase()} ${f.code}: ${f.message}\n`);
  if (findings.length) process.stdout.write('\n');
  if (items.length === 0) {
    process.stdout.write(`no shadow diffs recorded for ${context}\n`);
    return;
  }
  for (const d of items) {
    process.stdout.write(`${d.createdAt}  ${d.method} ${d.path}  (route ${d.route}, request ${d.requestId ?? '-'})  monolith ${d.monolithStatus ?? '-'} / service ${d.serviceStatus ?? '-'}\n`);
    for (const e of d.diffs) process.stdout.write(`    ${e.path}: monolith ${JSON.stringify(e.monolith)}  service ${JSON.stringify(e.service)}\n`);
  }
}

const pct = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
const value = (v: unknown, missing: boolean) => (missing ? '(missing)' : JSON.stringify(v));

/** `strangler diffs <context> --group`: the dashboard's grouped view (route, then JSON path) as text or JSON. */
async function groupedDiffs(conn: StackConnection, context: string, limit: number, opts: DiffsFlags): Promise<void> {
  const examples = opts.examples === undefined ? 3 : Number(opts.examples);
  if (!/^\d+$/.test(opts.examples ?? '3') || examples < 1 || examples > 20) throw new CliError(`--examples must be an integer 1–20, got ${JSON.stringify(opts.examples)}`);
  const url = `${conn.facadeUrl}/_strangler/diffs/groups?context=${encodeURIComponent(context)}&limit=${limit}&examples=${examples}`;
  const g = await requestJson<DiffGroups>(url, { token: conn.adminToken, what: 'facade' });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(g, null, 2)}\n`);
    return;
  }
  const out: string[] = [`${context}: ${g.diffs + g.errors} of ${g.compared} comparisons differed (${pct(g.compared ? (g.diffs + g.errors) / g.compared : null)}), ${g.errors} service errors`];
  if (!g.routes.length) out.push('no shadow diffs recorded');
  for (const r of g.routes) {
    out.push('', `${r.route} — ${r.compared} compared, ${r.diffs + r.errors} differed`);
    for (const p of r.paths) {
      out.push(`  ${p.path}  ${p.count}× (${pct(p.share)} of comparisons)  first ${p.firstSeen}  last ${p.lastSeen}  ${p.distinct} distinct`);
      for (const e of p.examples) {
        const where = `${e.request.method} ${e.request.path}${e.request.requestId ? `, request ${e.request.requestId}` : ''}`;
        out.push(`      monolith ${value(e.monolith, e.missing === 'monolith')}  service ${value(e.service, e.missing === 'service')}  ×${e.count}  (${where})`);
      }
    }
  }
  if (g.noise.length) {
    out.push('', 'learned noise (hidden: it differs between two calls of the monolith too):');
    for (const n of g.noise) out.push(`  ${n.route}  ${n.path}  ${n.count}×`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `strangler diffs reset <context>`: what `curl -X DELETE /_strangler/diffs?context=` did. */
export async function diffsResetCommand(context: string): Promise<void> {
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
  await requestJson(`${deps.conn.facadeUrl}/_strangler/diffs?context=${encodeURIComponent(context)}`, { method: 'DELETE', token: deps.conn.adminToken, what: 'facade' });
  process.stdout.write(`shadow diffs and counts of ${context} reset: the diff rate starts over\n`);
}
