import { cliDeps } from '../cli/deps';
import { requestJson } from '../cli/stack-client';
import { contextOrFail, parseLimit } from './common';

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

/** `strangler diffs <context>`: the latest shadow differences, newest first, with both values per JSON path. */
export async function diffsCommand(context: string, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = parseLimit(opts.limit, 20);
  const deps = cliDeps();
  contextOrFail(deps.plan, context);
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
