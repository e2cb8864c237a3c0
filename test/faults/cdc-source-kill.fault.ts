import { createLogger } from '../../lib/logger';
import { CdcSink } from '../../migrations/cdc/sink';
import { eventually } from '../harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../harness/kafka';
import { createCdcBed, type CdcBed } from './support/cdc-bed';
import { killAllChildren, sleep, type Child } from './support/children';
import { expectConverged } from './support/converge';
import { slotLagBytes, startPipelineChild } from './support/pipeline';
import { startHoldProxy, type HoldProxy } from './support/hold-proxy';
import { report } from './support/report';

/** The volume: 100k changes (inserts, updates, deletes) at 2k/s. */
const CHANGES = 100_000;
const KILLS = 3;

describeWithKafka('fault 1: the forward source is SIGKILLed three times during a burst of changes', () => {
  let bed: CdcBed;
  let sink: CdcSink;
  let source: Child | undefined;
  let proxy: HoldProxy;

  beforeAll(async () => {
    bed = await createCdcBed({ brokers: testKafkaBrokers(), seedRows: 2_000 });
    sink = new CdcSink({ definition: bed.definition, brokers: bed.brokers, logger: createLogger('sink', 'silent') });
    await sink.start();
    proxy = await startHoldProxy(bed.definition.source.databaseUrl);
  });
  afterAll(async () => {
    await killAllChildren();
    await sink?.stop();
    await proxy?.close();
    await bed?.drop();
  });

  it('restarts from the slot each time: nothing lost, nothing applied twice', async () => {
    const started = Date.now();
    // The source reaches Postgres through the proxy; the sink and the checks below do not.
    const viaProxy = { ...bed.definition, source: { ...bed.definition.source, databaseUrl: proxy.url(bed.definition.source.databaseUrl) } };
    const startSource = () => startPipelineChild('source', viaProxy, bed.brokers, { CDC_MAX_BATCH: '500' });
    source = await startSource();
    bed.burst.start(2_000);
    const kills: { atChanges: number; acksHeldMs: number; unconfirmedWalBytes: number; restartMs: number; repeatsSkippedSoFar: number }[] = [];
    for (let k = 1; k <= KILLS; k++) {
      await bed.burst.reached((CHANGES * k) / (KILLS + 1));
      // 1: a kill as it comes. 2: the source's acknowledgements to Postgres held for a second first, so the kill
      // certainly leaves many transactions in Kafka that the slot does not know were sent. 3: the same for exactly one
      // transaction written after a quiet spell, so the slot's last confirmed position is a heartbeat, not a commit.
      let acksHeldMs = 0;
      if (k === 2) {
        proxy.hold();
        await sleep((acksHeldMs = 1_000));
      } else if (k === 3) {
        await bed.burst.stop();
        await sleep(2_000);
        proxy.hold();
        const t = Date.now();
        const applied = sink.status().applied;
        const changes = await bed.burst.once();
        await eventually(() => expect(sink.status().applied).toBeGreaterThanOrEqual(applied + changes), 10_000, 20);
        acksHeldMs = Date.now() - t;
      }
      const unconfirmedWalBytes = await slotLagBytes(bed.definition);
      const atChanges = bed.burst.changes;
      await source.kill9();
      proxy.release();
      if (k === 3) bed.burst.start(2_000);
      // Writes go on while the source is down: they wait in the slot.
      await sleep(500);
      const t = Date.now();
      source = await startSource();
      const restartMs = Date.now() - t;
      await sleep(1_000);
      kills.push({ atChanges, acksHeldMs, unconfirmedWalBytes, restartMs, repeatsSkippedSoFar: sink.status().replayed });
    }
    await bed.burst.reached(CHANGES);
    await bed.burst.stop();
    const burstMs = Date.now() - started;

    const converged = await expectConverged(bed);
    // Each kill hit a source with changes not yet confirmed, and at least one restart repeated changes the sink had.
    expect(kills.every((k) => k.unconfirmedWalBytes > 0)).toBe(true);
    expect(sink.status().replayed).toBeGreaterThan(0);
    expect(bed.burst.failures).toBe(0);
    const status = sink.status();
    expect(status.deadLetters).toBe(0);
    report('1-source-sigkill', {
      changes: bed.burst.changes,
      transactions: bed.burst.transactions,
      kills,
      burstMs,
      catchUpMs: converged.waitedMs,
      rows: converged.counts.targetRows,
      sinkApplied: status.applied,
      sinkSkippedRepeats: status.replayed,
      auditedWrites: converged.audit.writes,
      totalMs: Date.now() - started,
    });
    await source.stop();
  });
});
