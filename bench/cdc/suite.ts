import os from 'node:os';
import { withDatabase } from '../../lib/db/urls';
import type { PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import type { ProfiledRun } from '../profile/render';
import { unmeasuredRow, type RowResult, type SuiteResult } from '../report';
import type { Suite, SuiteContext } from '../suite';
import { firstLine, type CdcRun } from './context';
import { CpuSampler, type CpuPart } from './cpu-sampler';
import { BENCH_APP, connect, connectWriter, createShopDatabases } from './databases';
import { PipelineHost } from './host';
import { startCdcInfra } from './infra';
import { deleteKafkaLeftovers } from './kafka-cleanup';
import { bigTransactionPhase } from './big-tx-phase';
import { lagPhase } from './lag-phase';
import { benchPipeline, pipelineTopics, type PipelineRole } from './pipelines';
import { profileDrains } from './profile-phase';
import { Profiler } from './profiler';
import { pgRecvlogicalVersion } from './raw-decode';
import { cdcRatios, ROW_NAMES, rowWhat, type CdcRowName } from './rows';
import { profileSnapshot, snapshotPhase } from './snapshot-phase';
import { throughputPhase } from './throughput-phase';
import { CDC_VOLUMES } from './volumes';

export const cdcSuite: Suite = {
  name: 'cdc',
  title: 'CDC (monolith users → users service, each pipeline row next to its anchor, one run)',
  baseline: 'raw decode',
  unit: { rate: 'rows/s', item: 'row' },
  run: runCdcSuite,
};

/**
 * Never throws: a failure becomes failed rows saying why, so a CDC problem cannot cost the facade table of the same
 * run. Everything it starts (Postgres, Kafka, the pipeline hosts) or creates on servers it was given (databases,
 * slots, topics) is removed at the end, also after a failure.
 */
async function runCdcSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const began = performance.now();
  // Seconds since the suite began: where a quick run's minute goes.
  const log = (line: string) => ctx.log(`cdc ${Math.round((performance.now() - began) / 1000).toString().padStart(3)} s: ${line}`);
  const volumes = CDC_VOLUMES[ctx.options.mode];
  const recvlogical = pgRecvlogicalVersion();
  const rows = new Map<CdcRowName, RowResult>();
  const notes: string[] = [];
  const cleanup: (() => Promise<void>)[] = [];
  const definitions = new Map<PipelineRole, PipelineDefinition>();
  let profiler: Profiler | null = null;
  let profiles: ProfiledRun[] | undefined;
  let profileNote: string | undefined;
  let failure: string | undefined;

  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const close of cleanup.reverse()) await close().catch((err: unknown) => log(`cleanup: ${firstLine(err)}`));
    })());
  // Interrupted: the databases, slots and topics made on servers the bench was given must still go.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up…`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // `--rows` picks phases: a phase runs when one of its rows is named (they share their data, so not row by row).
  const selected = (names: CdcRowName[]) => !ctx.options.rows || names.some((n) => ctx.options.rows!.includes(n));
  const phase = async (names: CdcRowName[], fn: () => Promise<RowResult[]>) => {
    if (!selected(names)) {
      for (const n of names) rows.set(n, unmeasuredRow(n, rowWhat(n, volumes, recvlogical), 'skipped', 'not selected (--rows)'));
      return;
    }
    try {
      for (const r of await fn()) rows.set(r.name as CdcRowName, r);
    } catch (err) {
      log(`${names.join(', ')}: ${firstLine(err)}`);
      for (const n of names) if (!rows.has(n)) rows.set(n, unmeasuredRow(n, rowWhat(n, volumes, recvlogical), 'failed', firstLine(err)));
    }
  };

  try {
    const infra = await startCdcInfra(log);
    cleanup.push(infra.stop);
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const dbs = await createShopDatabases(infra.serverUrl, tag);
    if (!infra.ownPostgres) cleanup.push(dbs.drop);
    if (!infra.ownKafka) {
      cleanup.push(() => {
        const defs = [...definitions.values()];
        return deleteKafkaLeftovers(infra.brokers, defs.flatMap(pipelineTopics), defs.map((d) => d.consumerGroup));
      });
    }
    const monolith = await connectWriter(dbs.monolith.url);
    cleanup.push(() => monolith.end());
    const service = await connect(dbs.service.url);
    cleanup.push(() => service.end());
    // Its own connection: the sampler's look-ups must not queue behind a long statement of a phase.
    const cpuClient = await connect(withDatabase(infra.serverUrl, 'postgres'), `${BENCH_APP}-cpu`);
    cleanup.push(() => cpuClient.end());
    // Both hosts boot together (tsx compiling is seconds on a busy machine); the profiled one idles until needed.
    const [host, profiling] = await Promise.allSettled([
      PipelineHost.start(infra.brokers),
      ctx.options.profile ? Profiler.start(ctx.options.profileDir, infra.brokers, log) : Promise.resolve(null),
    ]);
    if (profiling.status === 'fulfilled' && profiling.value) {
      profiler = profiling.value;
      cleanup.push(() => profiling.value!.close());
    } else if (profiling.status === 'rejected') {
      profileNote = `profiling failed: ${firstLine(profiling.reason)}`;
    }
    if (host.status === 'rejected') throw host.reason;
    cleanup.push(() => host.value.stop());
    const fixed: { pid: number; part: CpuPart }[] = [{ pid: host.value.pid, part: 'pipeline' }];
    if (infra.kafkaPid !== null) fixed.push({ pid: infra.kafkaPid, part: 'kafka' });

    const run: CdcRun = {
      volumes,
      tag,
      brokers: infra.brokers,
      dbs,
      monolith,
      service,
      host: host.value,
      recvlogical,
      log,
      sampleLoad: ctx.sampleLoad,
      pipeline: (role) => {
        if (!definitions.has(role)) definitions.set(role, benchPipeline(infra.serverUrl, dbs, tag, role));
        return definitions.get(role)!;
      },
      sampler: (pipeline = true, extra = []) => new CpuSampler(cpuClient, [dbs.monolith.name, dbs.service.name], [...(pipeline ? fixed : []), ...extra]),
      mode: ctx.options.mode,
      namedRows: ctx.options.rows,
      kafkaPid: infra.kafkaPid,
      onCleanup: (close) => cleanup.push(close),
    };
    notes.push(`Servers: ${infra.describe}; ${ctx.options.mode} volumes: burst ${volumes.burstRows.toLocaleString('en-US')} rows, lag ${volumes.lagSeconds} s at ${volumes.lagRate.toLocaleString('en-US')} and at ${volumes.lagHighRate.toLocaleString('en-US')} rows/s after ${volumes.lagWarmupSeconds} s warm-up each, big transaction ${volumes.bigTxRows.toLocaleString('en-US')} rows, snapshot ${volumes.snapshotRows.toLocaleString('en-US')} rows, bulk load at scale ${volumes.scaleRows.toLocaleString('en-US')} rows.`);

    await phase(['snapshot', 'snapshot (events)', 'COPY pipe', 'bulk load at scale'], () => snapshotPhase(run));
    await phase(['raw decode', 'source', 'debezium', 'end-to-end'], () => throughputPhase(run));
    await phase(['lag', 'lag at 10k'], () => lagPhase(run));
    await phase(['big transaction'], async () => [await bigTransactionPhase(run)]);
    if (profiler) {
      if (selected(['raw decode', 'source', 'end-to-end'])) {
        await profileDrains(run, profiler).catch((err: unknown) => profiler!.failures.push(`drains: ${firstLine(err)}`));
      }
      await profileSnapshot(run, profiler).catch((err: unknown) => profiler!.failures.push(`snapshot: ${firstLine(err)}`));
      profiles = await profiler.finish();
    }
  } catch (err) {
    failure = firstLine(err);
    log(`failed: ${failure}`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const order = ['source', 'end-to-end', 'snapshot'];
  profiles?.sort((a, b) => order.indexOf(a.row) - order.indexOf(b.row));
  if (!ctx.options.profile) profileNote = 'skipped (--no-profile)';
  else if (!profiles?.length) profileNote ??= profiler?.failures.length ? `profiling failed: ${profiler.failures.join('; ')}` : 'not run (the suite failed before it)';
  if (profiler?.failures.length && profiles?.length) notes.push(`Some profiling failed: ${profiler.failures.join('; ')}`);
  const list = ROW_NAMES.map((n) => rows.get(n) ?? unmeasuredRow(n, rowWhat(n, volumes, recvlogical), 'failed', failure ?? 'not run'));
  notes.push(...methodNotes(volumes.burstRows), `The CDC suite took ${Math.round((performance.now() - began) / 1000)} s, start-up and clean-up included.`);
  return {
    suite: 'cdc',
    rows: list,
    ratios: cdcRatios(list),
    notes,
    profiles,
    profileNote,
    profileHeading: `Where the pipeline process's time goes (--cpu-prof re-runs: a ${volumes.burstRows.toLocaleString('en-US')}-row burst drained by the source and by the whole pipeline, then a snapshot of every row the suite wrote into an empty table)`,
  };
}

function methodNotes(burst: number): string[] {
  const cpus = os.cpus().length;
  return [
    `raw decode, source, debezium and end-to-end drain the same committed ${burst.toLocaleString('en-US')}-row transaction one after another, each from a slot made before it; clocks run from the consumer's start (for ours and Debezium: once it streams) until the last change is done.`,
    'lag: latency = the NOTIFY a statement trigger on the service table sends at the sink\'s commit, received by the bench, minus the moment the writer\'s COMMIT returned; one writer connection, so commits are in id order.',
    'CPU µs/row: user + system time per row of every process measured (from /proc): client = pg_recvlogical or the two psql, node = our pipeline process, jvm = Debezium\'s (from streaming on), walsender, pg backends = the other backends on the two databases, kafka = the broker JVM when the bench started it. Postgres\' background writers are not counted.',
    ...(cpus <= 2 ? [`${cpus} cores: Postgres, the broker and our pipeline process share them, so a row's CPU per row bounds its rate as much as its code does.`] : []),
  ];
}
