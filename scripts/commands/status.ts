import { effectiveGates } from '../../lib/plan';
import { label } from '../../lib/stages/controller';
import { evaluateGates, type GateResult } from '../../lib/stages/gates';
import { nextPosition } from '../../lib/stages/stepper';
import { cliDeps } from '../cli/deps';
import { formatSnapshotProgress, formatTable, type SnapshotProgressView } from '../cli/output';

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** `strangler status`: one line per context — where its traffic goes and whether it may move on. */
export async function statusCommand(opts: { json?: boolean }): Promise<void> {
  const deps = cliDeps();
  const [contexts, pipelines] = await Promise.all([deps.facadeStatus(), deps.pipelines()]);
  const out = [];
  for (const c of contexts) {
    const next = nextPosition(deps.plan, c.name, { stage: c.stage as never, percent: c.percent });
    const inputs = await deps.inputs(c.name);
    // Reconcile is expensive: status leaves that gate out; advance and stage run it.
    const gates: GateResult[] = next ? await evaluateGates(next.stage, effectiveGates(deps.plan, c.name), { ...inputs, reconcile: undefined }) : [];
    const shown = gates.filter((g) => g.gate !== 'reconcile.clean');
    const pipe = (dir: 'forward' | 'reverse') => pipelines?.find((p) => p.name === `${c.name}-${dir}`) ?? null;
    out.push({ ...c, pipelines: { forward: pipe('forward'), reverse: pipe('reverse') }, next: next ? { ...next, label: label(next), gates: shown } : null });
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ contexts: out, cdc: pipelines ? 'ok' : 'unavailable' }, null, 2)}\n`);
    return;
  }
  const pipeCell = (p: { state: string; lagMs: number | null } | null) => (p ? `${p.state}${p.lagMs !== null ? ` ${p.lagMs}ms` : ''}` : '-');
  const rows = out.map((c) => [
    c.name,
    c.stage === 'canary' ? `canary ${c.percent}%` : c.stage,
    `${c.shadow.compared} / ${pct(c.shadow.diffRate)}`,
    pipeCell(c.pipelines.forward),
    pipeCell(c.pipelines.reverse),
    c.breaker,
    c.next ? `${c.next.label}: ${c.next.gates.filter((g) => g.pass).length}/${c.next.gates.length} gates pass${c.next.stage === 'canary' ? ' (+ reconcile on advance)' : ''}` : '-',
  ]);
  process.stdout.write(formatTable(['context', 'stage', 'shadow compared / diff rate', 'forward', 'reverse', 'breaker', 'next'], rows));
  for (const p of pipelines ?? []) {
    const snapshot = (p.source as { snapshot?: SnapshotProgressView | null } | null)?.snapshot;
    if (p.state === 'snapshotting' && snapshot) process.stdout.write(`\n${p.name} ${formatSnapshotProgress(snapshot)}\n`);
  }
  for (const c of out) {
    if (c.lastRollback) process.stdout.write(`\n${c.name}: automatic rollback at ${c.lastRollback.at}: ${c.lastRollback.reason}\n`);
    const failing = c.next?.gates.filter((g) => !g.pass) ?? [];
    for (const g of failing) process.stdout.write(`${c.name} → ${c.next!.label}: ${g.gate} — ${g.detail}\n`);
  }
  if (!pipelines) process.stdout.write('\n(no CDC worker reachable: pipeline columns are empty)\n');
}
