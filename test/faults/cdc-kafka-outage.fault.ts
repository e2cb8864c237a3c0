import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { portForLater } from '../../lib/net/ports';
import { CdcSink } from '../../migrations/cdc/sink';
import { CdcSource } from '../../migrations/cdc/source';
import { startKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from '../../scripts/stack/kafka-broker';
import { eventually } from '../harness/eventually';
import { describeWithKafka } from '../harness/kafka';
import { createCdcBed, type CdcBed } from './support/cdc-bed';
import { sleep } from './support/children';
import { expectConverged } from './support/converge';
import { report } from './support/report';

const CHANGES = 20_000;
/** The 20 s without a broker: this wait plus the broker's start-up (3–5 s) after it. */
const OUTAGE_MS = 17_000;

// Needs Java like the run's own broker, so it runs wherever the other Kafka tests do.
describeWithKafka('fault 3: Kafka stops for 15 s under load and comes back on the same data and ports', () => {
  let brokerOptions: KafkaBrokerOptions;
  let broker: KafkaBroker | undefined;
  let bed: CdcBed;
  let source: CdcSource;
  let sink: CdcSink;
  let home: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-fault-kafka-'));
    const port = await portForLater();
    let controllerPort = await portForLater();
    while (controllerPort === port) controllerPort = await portForLater();
    brokerOptions = { dataDir: path.join(home, 'kafka'), port, controllerPort, heapMb: 384 };
    broker = await startKafkaBroker(brokerOptions);
    bed = await createCdcBed({ brokers: broker.brokers, seedRows: 2_000 });
    const logger = createLogger('cdc', 'silent');
    source = new CdcSource({ definition: bed.definition, brokers: bed.brokers, logger, heartbeatIntervalMs: 500 });
    sink = new CdcSink({ definition: bed.definition, brokers: bed.brokers, logger });
    await sink.start();
    await source.start();
  });
  afterAll(async () => {
    await source?.stop();
    await sink?.stop();
    await bed?.drop();
    await broker?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('the source holds its position in the slot, the sink waits, and both carry on: nothing lost, nothing twice', async () => {
    const started = Date.now();
    bed.burst.start(1_000, CHANGES);
    await bed.burst.reached(CHANGES / 4);
    await broker!.stop();
    const downAt = Date.now();
    const changesAtStop = bed.burst.changes;
    await sleep(OUTAGE_MS);
    // What the pipeline says while Kafka is away: the source cannot deliver, so nothing more is confirmed.
    const sourceDuring = await source.status();
    const changesDuringOutage = bed.burst.changes - changesAtStop;
    const t = Date.now();
    broker = await startKafkaBroker(brokerOptions);
    const restartMs = Date.now() - t;
    const outageMs = Date.now() - downAt;

    await bed.burst.reached(CHANGES);
    await bed.burst.stop();
    const converged = await expectConverged(bed, 120_000);
    // Recovered by themselves, without a restart: a pipeline that needs an operator after every Kafka blip is not done.
    await eventually(async () => expect((await source.status()).state).toBe('streaming'), 10_000);
    expect(sink.status().state).toBe('streaming');
    expect(bed.burst.failures).toBe(0);
    // While the broker was away the source said so (kafkajs gives up a send after ≈ 10 s of its own retries).
    expect(sourceDuring).toMatchObject({ state: 'retrying', error: expect.stringContaining('Kafka has not taken changes') });
    report('3-kafka-outage', {
      changes: bed.burst.changes,
      changesDuringOutage,
      outageMs,
      brokerRestartMs: restartMs,
      sourceStateDuringOutage: sourceDuring.state,
      catchUpMs: converged.waitedMs,
      rows: converged.counts.targetRows,
      sinkApplied: sink.status().applied,
      auditedWrites: converged.audit.writes,
      totalMs: Date.now() - started,
    });
  });
});
