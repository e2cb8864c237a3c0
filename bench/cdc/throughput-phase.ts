import { unmeasuredRow, type RowResult } from '../report';
import { measure, type CdcRun } from './context';
import { prepareDebezium } from './debezium';
import { createRawSlot, dropRawSlot, rawDecode } from './raw-decode';
import { measuredRow, rowWhat } from './rows';
import { handled } from './snapshot-phase';
import { ackedPast, countRows, endMarker, insertUsers, sourceProgress, waitForPipeline } from './workload';

/**
 * raw decode, source, debezium and end-to-end drain the very same committed burst, one after another, each on a slot
 * of its own made before the burst: same WAL, same changes, and no row competes with another for the two cores. The
 * clock runs from the consumer's start (our pipeline and Debezium: once it streams) to the last change done, so every
 * row is timed the same way: decoding starts when the consumer connects. Leaves the forward pipeline running for the lag row.
 */
export async function throughputPhase(run: CdcRun): Promise<RowResult[]> {
  const { monolith, service, host, volumes: v, log } = run;
  const total = v.burstRows;
  const source = run.pipeline('source');
  const forward = run.pipeline('e2e');
  const raw = { slot: `bench_raw_${run.tag}`, publication: `bench_raw_${run.tag}` };
  const what = (name: 'raw decode' | 'source' | 'end-to-end') => rowWhat(name, v, run.recvlogical);

  if (run.recvlogical) await createRawSlot(monolith, raw.slot, raw.publication, 'users');
  // Builds its harness (Maven, once) and makes its slot; a row that cannot run says why when measured.
  const debezium = await prepareDebezium(run);
  // First starts take the (empty) snapshots and create the slots; stopping confirms them, so the burst is all new.
  for (const [definition, parts] of [[source, 'source'], [forward, 'source+sink']] as const) {
    await host.startPipeline(definition, parts);
    await host.stopPipeline(definition.name);
  }
  log(`burst: ${total.toLocaleString('en-US')} rows in one transaction…`);
  const insert = await insertUsers(monolith, total, 'burst');
  const marker = await endMarker(monolith);
  log(`burst: committed in ${insert.seconds.toFixed(1)} s, ends before ${marker}`);

  const rawRow = run.recvlogical
    ? await measure(run, 'raw decode', async () => {
        const loadavg1 = run.sampleLoad();
        const sampler = run.sampler(false);
        await sampler.begin();
        try {
          const r = await rawDecode(run.dbs.monolith.url, raw.slot, raw.publication, marker);
          const cpu = await sampler.end(r.cpuMs === null ? {} : { client: r.cpuMs });
          return measuredRow('raw decode', what('raw decode'), { rows: total, seconds: r.seconds, cpu, loadavg1 });
        } finally {
          await dropRawSlot(monolith, raw.slot, raw.publication);
        }
      })
    : unmeasuredRow('raw decode', what('raw decode'), 'skipped', 'pg_recvlogical is not installed (Debian: apt-get install postgresql-client)');

  const sourceRow = await measure(run, 'source', async () => {
    const loadavg1 = run.sampleLoad();
    const sampler = run.sampler();
    await sampler.begin();
    try {
      const { totalMs } = await host.startPipeline(source, 'source');
      const began = performance.now();
      const done = await waitForPipeline(host, source.name, ackedPast(marker), sourceProgress);
      const cpu = await sampler.end();
      return measuredRow('source', what('source'), { rows: total, seconds: (done.at - began) / 1000, cpu, loadavg1, details: { startMs: Math.round(totalMs) } });
    } finally {
      await host.stopPipeline(source.name).catch(() => undefined);
    }
  });

  // After ours and before end-to-end, which leaves the forward pipeline running for the lag row.
  const debeziumRow = await debezium.measure();

  const endToEnd = await measure(run, 'end-to-end', async () => {
    const loadavg1 = run.sampleLoad();
    const sampler = run.sampler();
    await sampler.begin();
    const { totalMs, sinkMs } = await host.startPipeline(forward, 'source+sink');
    const began = performance.now();
    const done = await waitForPipeline(host, forward.name, (s) => handled(s) >= total && ackedPast(marker)(s), (s) => handled(s) + sourceProgress(s));
    const cpu = await sampler.end();
    const arrived = await countRows(service, "full_name LIKE 'User burst %'");
    return measuredRow('end-to-end', what('end-to-end'), {
      rows: total,
      seconds: (done.at - began) / 1000,
      cpu,
      loadavg1,
      errors: total - arrived,
      details: { startMs: Math.round(totalMs), sinkStartMs: Math.round(sinkMs), insertSeconds: insert.seconds, sink: done.status.sink },
    });
  });
  return [rawRow, sourceRow, debeziumRow, endToEnd];
}
