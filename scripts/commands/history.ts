import type { HistoryEntry } from '../../control/contracts';
import { label } from '../../control/stages/stage-service';
import { findStack, requestJson } from '../cli/stack-client';
import { formatTable } from '../cli/output';
import { contextOrFail, parseLimit } from './common';
import { loadPlanOrFail } from '../cli/deps';

/** `strangler history [context]`: who moved which stage, when, why, and the gates' numbers at the time. */
export async function historyCommand(context: string | undefined, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = parseLimit(opts.limit, 20);
  if (context !== undefined) contextOrFail(loadPlanOrFail(), context);
  const conn = findStack();
  const query = new URLSearchParams({ limit: String(limit), ...(context ? { context } : {}) });
  const { items } = await requestJson<{ items: HistoryEntry[] }>(`${conn.facadeUrl}/_strangler/history?${query}`, { token: conn.adminToken, what: 'facade' });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ context: context ?? null, items }, null, 2)}\n`);
    return;
  }
  if (!items.length) {
    process.stdout.write(`no stage moves recorded${context ? ` for ${context}` : ''} yet\n`);
    return;
  }
  const gates = (e: HistoryEntry) => (e.gates.length ? `${e.gates.filter((g) => g.pass).length}/${e.gates.length} pass` : '-');
  const rows = items.map((e) => [e.at, e.context, e.actor, `${label(e.from)} → ${label(e.to)}`, gates(e), e.forced ? 'forced' : '', e.reason ?? '']);
  process.stdout.write(formatTable(['at', 'context', 'actor', 'move', 'gates', 'force', 'reason'], rows));
  for (const e of items.filter((x) => x.gates.some((g) => !g.pass))) {
    for (const g of e.gates.filter((x) => !x.pass)) process.stdout.write(`${e.at} ${e.context}: ${g.gate} failed — ${g.detail}\n`);
  }
}
