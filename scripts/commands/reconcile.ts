import { reconcile, type ReconcileProgress, type ReconcileResult } from '../../migrations/reconcile';
import { pipelinesFor } from '../../migrations/cdc/pipeline/definition';
import { CdcUnreachableError, HttpCdcClient } from '../../control/stages/cdc-client';
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
    if (t.inFlight) process.stdout.write(`  in flight: ${t.inFlight} difference(s) of the full pass were gone once the pipelines caught up\n`);
  }
  process.stdout.write(`${summarize(result)}\n`);
}

/**
 * `strangler reconcile <context>`: compares the monolith's and the service's tables through the plan's mapping —
 * counts, chunked checksums over key ranges, then the first keys missing, extra or different. Exit 1 when not clean.
 * With a running stack it asks the CDC worker, which lets the pipelines catch up and re-checks what differed, so live
 * traffic is not reported as differences; without one (only STRANGLER_PG_URL) it reads the databases directly, once.
 */
export async function reconcileCommand(context: string, opts: { json?: boolean; limit?: string }): Promise<void> {
  const limit = parseLimit(opts.limit, 20, 10_000);
  const plan = loadPlanOrFail();
  contextOrFail(plan, context);
  const state = readStackState() as { postgresUrl?: string; cdcUrl?: string; adminToken?: string } | undefined;
  const cdcUrl = process.env.STRANGLER_CDC_URL || state?.cdcUrl;
  const adminToken = process.env.STRANGLER_ADMIN_TOKEN || state?.adminToken || '';
  let result: ReconcileResult | undefined;
  if (cdcUrl) {
    if (!opts.json) process.stderr.write(`reconciling through the CDC worker (pipelines catch up first; differences are re-checked)…\n`);
    try {
      result = (await new HttpCdcClient(cdcUrl, adminToken).reconcile(context, { limit })) as unknown as ReconcileResult;
    } catch (err) {
      if (!(err instanceof CdcUnreachableError)) throw new CliError(`reconcile ${context}: ${(err as Error).message}`);
      if (!opts.json) process.stderr.write(`the CDC worker did not answer (${err.message}); reading the databases directly\n`);
    }
  }
  if (!result) result = await directReconcile(plan, context, limit, state?.postgresUrl, opts.json === true);
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else print(result);
  if (!result.clean) process.exitCode = 1;
}

async function directReconcile(plan: ReturnType<typeof loadPlanOrFail>, context: string, limit: number, stackPgUrl: string | undefined, json: boolean): Promise<ReconcileResult> {
  const serverUrl = process.env.STRANGLER_PG_URL || stackPgUrl;
  if (!serverUrl) throw new CliError('no running stack found (start one with `npm start`, or set STRANGLER_PG_URL)');
  const { forward } = pipelinesFor(plan, context, serverUrl);
  const tty = !json && process.stderr.isTTY;
  try {
    return await reconcile({ definition: forward, limit, onProgress: tty ? progressBar : undefined });
  } catch (err) {
    throw new CliError(`reconcile ${context}: ${(err as Error).message}`);
  } finally {
    if (tty) process.stderr.write('\n');
  }
}
