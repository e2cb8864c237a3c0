import { peakRssMb, resetPeakRss } from '../../lib/process/memory';
import { dropPipelineSource } from '../../migrations/cdc/source';
import { unmeasuredRow, type RowResult } from '../report';
import { measure, type CdcRun } from './context';
import { copyPipe, psqlAvailable } from './copy-pipe';
import { measuredRow, rowWhat } from './rows';
import { countRows, insertUsers, waitForPipeline } from './workload';
import type { PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import type { PipelineHost } from './host';
import type { PipelineStatus } from './host-protocol';
import type { Profiler } from './profiler';

/** Everything the sink has dealt with, whichever way: what "all rows arrived" is checked against. */
export const handled = (s: PipelineStatus) => (s.sink ? s.sink.applied + s.sink.deadLetters + s.sink.conflicts + s.sink.replayed : 0);

/**
 * The snapshot and its anchor, first in the suite: no slot exists yet to hold back the WAL of the big fill, and the
 * COPY pipe runs before any sink has touched the service table (a sink installs a trigger there that stamps every
 * local write: the anchor would pay for it, and its stamps would then conflict with the snapshot). Leaves both users
 * tables empty for the next phase.
 */
export async function snapshotPhase(run: CdcRun): Promise<RowResult[]> {
  const { monolith, service, volumes: v, log } = run;
  const total = v.snapshotRows;
  log(`snapshot: filling the monolith's users with ${total.toLocaleString('en-US')} rows…`);
  const fill = await insertUsers(monolith, total, 'snap');
  await monolith.query('VACUUM ANALYZE users');
  log(`snapshot: filled in ${fill.seconds.toFixed(1)} s`);

  const copy = psqlAvailable()
    ? await measure(run, 'COPY pipe', async () => {
        const loadavg1 = run.sampleLoad();
        const sampler = run.sampler(false);
        await sampler.begin();
        const r = await copyPipe(run.dbs.monolith.url, run.dbs.service.url);
        const cpu = await sampler.end(r.cpuMs === null ? {} : { client: r.cpuMs });
        const copied = await countRows(service);
        return measuredRow('COPY pipe', rowWhat('COPY pipe', v, run.recvlogical), { rows: total, seconds: r.seconds, cpu, loadavg1, errors: total - copied });
      })
    : unmeasuredRow('COPY pipe', rowWhat('COPY pipe', v, run.recvlogical), 'skipped', 'psql is not installed (Debian: apt-get install postgresql-client)');
  await service.query('TRUNCATE users CASCADE');

  // The bulk load (the plan's default) and the events path it replaced, side by side on the same rows.
  const snapshot = await measure(run, 'snapshot', () => measureSnapshot(run, 'snapshot', run.pipeline('snapshot')));
  await service.query('TRUNCATE users CASCADE');
  const events = await measure(run, 'snapshot (events)', () => measureSnapshot(run, 'snapshot (events)', run.pipeline('events_snapshot')));
  await service.query('TRUNCATE users CASCADE');

  // At scale: the monolith's table grown to scaleRows, loaded once more into the emptied service table.
  log(`snapshot: growing the monolith's users to ${v.scaleRows.toLocaleString('en-US')} rows…`);
  const grow = await insertUsers(monolith, v.scaleRows - total, 'scale');
  await monolith.query('VACUUM ANALYZE users');
  log(`snapshot: grown in ${grow.seconds.toFixed(1)} s`);
  const scale = await measure(run, 'bulk load at scale', () => measureSnapshot(run, 'bulk load at scale', run.pipeline('scale_snapshot'), v.scaleRows));
  await monolith.query('TRUNCATE users CASCADE');
  await service.query('TRUNCATE users CASCADE');
  return [snapshot, events, copy, scale];
}

/**
 * The snapshot again under the profiler, last in the suite: the profiled host is warm by then (a cold process spends
 * its first tens of thousands of rows in unoptimised code), the monolith table holds every row the suite wrote, and
 * the target is a second, empty service database.
 */
export async function profileSnapshot(run: CdcRun, profiler: Profiler): Promise<void> {
  const definition = run.pipeline('profiled_snapshot');
  const rows = await countRows(run.monolith);
  run.log(`profile: a ${rows.toLocaleString('en-US')}-row snapshot under --cpu-prof…`);
  try {
    await profiler.window('snapshot', rows, async () => void (await snapshotUntilApplied(profiler.host, definition, rows)));
    await profiler.host.stopPipeline(definition.name).catch(() => undefined);
  } finally {
    await dropPipelineSource(definition);
  }
}

/** A first start of `definition`, watched until the sink has every row; resolves when it saw that. */
async function snapshotUntilApplied(
  host: PipelineHost,
  definition: PipelineDefinition,
  total: number,
): Promise<{ doneAt: number; inKafkaAt: number | undefined; appliedWhenInKafka: number | null; sinkMs: number; status: PipelineStatus }> {
  let inKafkaAt: number | undefined;
  let appliedWhenInKafka: number | null = null;
  const starting = host.startPipeline(definition, 'source+sink').then(async (r) => {
    inKafkaAt = performance.now();
    // How far the sink had got when the source was done: what is left is the sink's alone.
    appliedWhenInKafka = await host.status(definition.name).then((s) => handled(s), () => null);
    return r;
  });
  // Watched while it starts: a first start only returns once the whole snapshot is in Kafka, or loaded (bulk).
  starting.catch(() => undefined);
  const loaded = definition.snapshot === 'bulk' ? (s: PipelineStatus) => s.source?.state === 'streaming' : (s: PipelineStatus) => handled(s) >= total;
  const done = await waitForPipeline(host, definition.name, loaded, (s) => handled(s) + (s.source?.snapshot?.rows ?? 0), { intervalMs: 50 });
  const { sinkMs } = await starting;
  return { doneAt: done.at, inKafkaAt, appliedWhenInKafka, sinkMs, status: done.status };
}

async function measureSnapshot(
  run: CdcRun,
  name: 'snapshot' | 'snapshot (events)' | 'bulk load at scale',
  definition: PipelineDefinition,
  total = run.volumes.snapshotRows,
): Promise<RowResult> {
  const loadavg1 = run.sampleLoad();
  resetPeakRss(run.host.pid);
  const sampler = run.sampler();
  await sampler.begin();
  const began = performance.now();
  try {
    const r = await snapshotUntilApplied(run.host, definition, total);
    const cpu = await sampler.end();
    const seconds = (r.doneAt - began) / 1000;
    const inKafka = ((r.inKafkaAt ?? r.doneAt) - began) / 1000;
    const mapped = await countRows(run.service, "full_name LIKE 'User snap %' OR full_name LIKE 'User scale %'");
    const rest = r.appliedWhenInKafka === null ? '' : `, the sink had ${Math.round((100 * r.appliedWhenInKafka) / total)} % applied then`;
    const peakRss = peakRssMb(run.host.pid);
    const rss = peakRss === null ? '' : `; pipeline process peak RSS ${peakRss} MB`;
    const note = definition.snapshot === 'bulk' ? `all loaded and streaming after ${seconds.toFixed(1)} s${rss}` : `all in Kafka after ${inKafka.toFixed(1)} s${rest}; all applied after ${seconds.toFixed(1)} s${rss}`;
    return measuredRow(name, rowWhat(name, run.volumes, run.recvlogical), {
      rows: total,
      seconds,
      cpu,
      loadavg1,
      errors: total - mapped,
      note,
      details: { mode: definition.snapshot, sinkStartMs: Math.round(r.sinkMs), inKafkaSeconds: inKafka, appliedWhenInKafka: r.appliedWhenInKafka, peakRssMb: peakRss, sink: r.status.sink },
    });
  } finally {
    await run.host.stopPipeline(definition.name).catch(() => undefined);
    // Its slot would pin the WAL of every later phase.
    await dropPipelineSource(definition);
  }
}
