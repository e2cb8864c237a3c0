import type { ConflictEntry } from '../../control/contracts';
import { HttpCdcClient } from '../../control/stages/cdc-client';
import { findStack } from '../cli/stack-client';
import { CliError } from '../cli/errors';
import { formatTable } from '../cli/output';
import { loadPlanOrFail } from '../cli/deps';
import { contextOrFail, parseLimit } from './common';

const brief = (row: Record<string, unknown> | null) => (row === null ? '(deleted)' : JSON.stringify(row).slice(0, 60));

/** `strangler conflicts <context>`: rows both sides wrote between two syncs, and whose version stayed. */
export async function conflictsCommand(context: string, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = parseLimit(opts.limit, 50);
  contextOrFail(loadPlanOrFail(), context);
  const conn = findStack();
  if (!conn.cdcUrl) throw new CliError('no CDC worker known: start the stack (npx strangler up) or set STRANGLER_CDC_URL');
  const items: ConflictEntry[] = await new HttpCdcClient(conn.cdcUrl, conn.adminToken).conflicts(context, limit);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ context, items }, null, 2)}\n`);
    return;
  }
  if (!items.length) {
    process.stdout.write(`no conflicts recorded for ${context}\n`);
    return;
  }
  const rows = items.map((c) => [c.at, c.pipeline, c.table, JSON.stringify(c.key), c.policy, c.chosen, brief(c.incoming.row), brief(c.local.row)]);
  process.stdout.write(formatTable(['at', 'pipeline', 'table', 'key', 'policy', 'kept', 'change (incoming)', 'target (local)'], rows));
}
