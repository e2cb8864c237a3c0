import { reconcile, type ReconcileProgress, type ReconcileResult } from '../../migrations/reconcile';
import { pipelinesFor } from '../../migrations/cdc/pipeline/definition';
import { summarize } from '../../migrations/cdc/worker/worker';
import { loadPlanOrFail } from '../cli/deps';
import { CliError } from '../cli/errors';
import { readStackState } from '../stack/home';
import { contextOrFail, parseLimit } from './common';

function progressBar(p: ReconcileProgress): void {
  const width = 30;
  const done = p.chunksTotal === 0 ? 1 : p.chunksDone / p.chunksTotal;
  const bar = '#'.repeat(Math.round(done * width)).padEnd(width, '.');
  process.stderr.write(`\r  [${bar}] ${p.table} (${p.tableIndex + 1}/${p.tableCount}) chunk ${p.chunksDone}/${p.chunksTotal}   `);
}

function print(result: ReconcileResult): void {
  for (const t of result.tables) {
    const embedded = t.embedded.length ? ` (+ ${t.embedded.join(', ')})` : '';
    process.stdout.write(`${t.source}${embedded} → ${t.target}: ${t.sourceRows} / ${t.targetRows} rows, ${t.differingChunks} of ${t.chunks} chunks differ\n`);
    if (t.missingCount) process.stdout.write(`  missing ${t.missingCount}: ${t.missing.map((k) => JSON.stringify(k)).join(' ')}\n`);
    if (t.extraCount) process.stdout.write(`  extra ${t.extraCount}: ${t.extra.map((k) => JSON.stringify(k)).join(' ')}\n`);
    if (t.differentCount) process.stdout.write(`  different ${t.differentCount}: ${t.different.map((d) => `${JSON.stringify(d.key)} [${d.columns.join(', ')}]`).join(' ')}\n`);
  }
  process.stdout.write(`${summarize(result)}\n`);
}

/**
 * `strangler reconcile <context>`: compares the monolith's and the service's tables through the plan's mapping —
 * counts, chunked checksums over key ranges, then the first keys missing, extra or different. Exit 1 when not clean.
 */
export async function reconcileCommand(context: string, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = parseLimit(opts.limit, 20, 10_000);
  const plan = loadPlanOrFail();
  contextOrFail(plan, context);
  const serverUrl = process.env.STRANGLER_PG_URL || (readStackState() as { postgresUrl?: string } | undefined)?.postgresUrl;
  if (!serverUrl) throw new CliError('no running stack found (start one with `npm start`, or set STRANGLER_PG_URL)');
  const { forward } = pipelinesFor(plan, context, serverUrl);
  const tty = !opts.json && process.stderr.isTTY;
  let result: ReconcileResult;
  try {
    result = await reconcile({ definition: forward, limit, onProgress: tty ? progressBar : undefined });
  } catch (err) {
    throw new CliError(`reconcile ${context}: ${(err as Error).message}`);
  } finally {
    if (tty) process.stderr.write('\n');
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else print(result);
  if (!result.clean) process.exitCode = 1;
}
