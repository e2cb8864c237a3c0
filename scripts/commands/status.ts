import { checkGates, gateInputs, stagesEntered } from '../../control/gates/gate-check';
import { label } from '../../control/stages/stage-service';
import { nextPosition } from '../../control/stages/stepper';
import { cliDeps } from '../cli/deps';
import { formatSnapshotProgress, formatTable, type SnapshotProgressView } from '../cli/output';

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function writesCell(c: { shadow: { writes?: string; writesMirrored?: boolean } }): string {
  if (c.shadow.writes !== 'dryRun') return 'no (reads only)';
  return c.shadow.writesMirrored ? 'yes (dry run)' : 'STOPPED';
}

/** `strangler status`: one line per context — where its traffic goes and whether it may move on. */
export async function statusCommand(opts: { json?: boolean }): Promise<void> {
  const deps = cliDeps();
  const [contexts, cluster] = await Promise.all([deps.facadeStatus(), deps.cdc?.cluster().catch(() => undefined)]);
  const pipelines = cluster?.items;
  const out = [];
  for (const c of contexts) {
    const next = nextPosition(deps.plan, c.name, c);
    // Reconcile is expensive: status leaves that gate out; advance and stage run it.
    const gates = next ? await checkGates(deps.plan, c.name, stagesEntered(c, next), gateInputs(c.name, c, pipelines)) : [];
    const shown = gates.filter((g) => g.gate !== 'reconcile.clean');
    const pipe = (dir: 'forward' | 'reverse') => pipelines?.find((p) => p.name === `${c.name}-${dir}`) ?? null;
    out.push({ ...c, pipelines: { forward: pipe('forward'), reverse: pipe('reverse') }, next: next ? { ...next, label: label(next), gates: shown } : null });
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ contexts: out, cdc: pipelines ? 'ok' : 'unavailable', workers: cluster?.workers ?? null }, null, 2)}\n`);
    return;
  }
  const pipeCell = (p: { state: string; lagMs: number | null; worker?: string | null } | null) =>
    p ? `${p.state}${p.lagMs !== null ? ` ${p.lagMs}ms` : ''}${p.worker ? ` @${p.worker}` : p.state === 'stopped' ? ' (no worker)' : ''}` : '-';
  const rows = out.map((c) => [
    c.name,
    c.stage === 'canary' ? `canary ${c.percent}%` : c.stage,
    `${c.shadow.compared} / ${pct(c.shadow.diffRate)}`,
    writesCell(c),
    c.stickiness?.requests ? pct(c.stickiness.withoutUserShare) : '-',
    pipeCell(c.pipelines.forward),
    pipeCell(c.pipelines.reverse),
    c.breaker,
    c.next ? `${c.next.label}: ${c.next.gates.filter((g) => g.pass).length}/${c.next.gates.length} gates pass${c.next.stage === 'canary' ? ' (+ reconcile on advance)' : ''}` : '-',
  ]);
  process.stdout.write(formatTable(['context', 'stage', 'shadow compared / diff rate', 'writes mirrored', 'no sticky user', 'forward', 'reverse', 'breaker', 'next'], rows));
  if (cluster?.workers?.length) {
    const who = cluster.workers.map((w) => (w.role === 'active' ? `${w.id} (runs ${w.pipelines.join(', ')})` : `${w.id} (standby)`));
    process.stdout.write(`\nCDC workers: ${who.join('; ')}\n`);
  }
  for (const p of pipelines ?? []) {
    const snapshot = (p.source as { snapshot?: SnapshotProgressView | null } | null)?.snapshot;
    if (p.state === 'snapshotting' && snapshot) process.stdout.write(`\n${p.name} ${formatSnapshotProgress(snapshot)}\n`);
    const sink = p.sink as { state?: string; error?: string; unmappedColumns?: string[] } | null;
    // A sink stopped at a schema change says which column and what to do.
    if (sink?.state === 'error' && sink.error) process.stdout.write(`\n${p.name}: ERROR ${sink.error}\n`);
    const unmapped = sink?.unmappedColumns ?? [];
    if (unmapped.length) {
      process.stdout.write(`\n${p.name}: WARNING columns the target has no column for, left out: ${unmapped.join(', ')} (add them to the service, or map or drop them in the plan)\n`);
    }
  }
  for (const c of out) {
    for (const f of c.findings ?? []) process.stdout.write(`\n${c.name}: ${f.severity.toUpperCase()} ${f.code}: ${f.message}\n`);
    if (c.lastRollback) process.stdout.write(`\n${c.name}: automatic rollback at ${c.lastRollback.at}: ${c.lastRollback.reason}\n`);
    const failing = c.next?.gates.filter((g) => !g.pass) ?? [];
    for (const g of failing) process.stdout.write(`${c.name} → ${c.next!.label}: ${g.gate} — ${g.detail}\n`);
  }
  if (!pipelines) process.stdout.write('\n(no CDC worker reachable: pipeline columns are empty)\n');
}
