import type { RowResult } from '../report';
import { measure, type CdcRun } from './context';
import { BENCH_APP, connect, connectWriter } from './databases';
import { installAppliedProbe, measureLag, percentile, removeAppliedProbe } from './lag';
import { producedAt, splitLag, topicEnd, type LagSplit } from './lag-split';
import { pipelineTopics } from './pipelines';
import { measuredRow, rowWhat } from './rows';

/** One steady load of the lag phase: its row, rate and transaction size, and the label of the rows it writes. */
interface LagLoad {
  name: 'lag' | 'lag at 10k';
  rate: number;
  rowsPerTx: number;
  label: string;
}

/** The two steady loads, one after the other, through the running forward pipeline; stops it afterwards. */
export async function lagPhase(run: CdcRun): Promise<RowResult[]> {
  const { host, volumes: v } = run;
  const forward = run.pipeline('e2e');
  const loads: LagLoad[] = [
    { name: 'lag', rate: v.lagRate, rowsPerTx: v.lagRowsPerTx, label: 'lag' },
    { name: 'lag at 10k', rate: v.lagHighRate, rowsPerTx: v.lagHighRowsPerTx, label: 'lagx' },
  ];
  // Running since the end-to-end row; started here when that row failed.
  if (!(await host.status(forward.name).then(() => true, () => false))) await host.startPipeline(forward, 'source+sink');
  try {
    const rows: RowResult[] = [];
    for (const load of loads) rows.push(await measure(run, load.name, () => measureLoad(run, load)));
    return rows;
  } finally {
    await host.stopPipeline(forward.name).catch(() => undefined);
  }
}

async function measureLoad(run: CdcRun, load: LagLoad): Promise<RowResult> {
  const { volumes: v } = run;
  const forward = run.pipeline('e2e');
  const writer = await connectWriter(run.dbs.monolith.url, `${BENCH_APP}-writer`);
  const listener = await connect(run.dbs.service.url, `${BENCH_APP}-listener`);
  await installAppliedProbe(run.service);
  try {
    run.log(`${load.name}: ${load.rate.toLocaleString('en-US')} rows/s for ${v.lagWarmupSeconds} s warm-up + ${v.lagSeconds} s…`);
    const topic = pipelineTopics(forward)[0];
    const fromOffset = await topicEnd(run.brokers, topic);
    const sampler = run.sampler();
    let loadavg1 = 0;
    const r = await measureLag({
      writer,
      listener,
      rate: load.rate,
      rowsPerTx: load.rowsPerTx,
      label: load.label,
      warmupSeconds: v.lagWarmupSeconds,
      seconds: v.lagSeconds,
      onWindowStart: async () => {
        loadavg1 = run.sampleLoad();
        await sampler.begin();
      },
      log: run.log,
    });
    const cpu = await sampler.end();
    const split = await producedAt(run.brokers, topic, fromOffset, new Set(r.transactions.map((t) => t.maxId))).then(
      (produced) => splitLag(r.transactions, produced),
      (err: unknown) => {
        run.log(`${load.name}: could not read Kafka's timestamps: ${String(err)}`);
        return null;
      },
    );
    const latency = { p50: percentile(r.latencies, 50), p90: percentile(r.latencies, 90), p99: percentile(r.latencies, 99), max: r.latencies.at(-1) ?? null };
    const notes = [r.late ? `the writer fell behind its schedule ${r.late} times` : '', r.lost ? `${r.lost} transactions not applied within 30 s` : ''];
    return measuredRow(load.name, rowWhat(load.name, v, run.recvlogical), {
      rows: r.rows,
      seconds: r.seconds,
      cpu,
      loadavg1,
      errors: r.lost * load.rowsPerTx,
      latency,
      offeredRate: load.rate,
      note: [`max ${latency.max?.toFixed(0) ?? '–'} ms`, describeSplit(split), ...notes].filter(Boolean).join('; '),
      details: { transactions: r.latencies.length + r.lost, rowsPerTx: load.rowsPerTx, late: r.late, split },
    });
  } finally {
    await removeAppliedProbe(run.service).catch(() => undefined);
    await writer.end().catch(() => undefined);
    await listener.end().catch(() => undefined);
  }
}

/** Kafka's timestamps are whole ms, as is Date.now(): the split is good to a millisecond or two. */
function describeSplit(split: LagSplit | null): string {
  if (!split?.matched) return '';
  const f = (x: number | null) => (x === null ? '–' : x.toFixed(0));
  return `commit → produce p50 ${f(split.toKafka.p50)} / p99 ${f(split.toKafka.p99)} ms, produce → applied p50 ${f(split.toApplied.p50)} / p99 ${f(split.toApplied.p99)} ms`;
}
