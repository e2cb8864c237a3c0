import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../lib/logger';
import { portForLater } from '../../lib/net/ports';
import { CdcSink } from '../../migrations/cdc/sink';
import { CdcSource } from '../../migrations/cdc/source';
import { eventually } from '../harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../harness/kafka';
import { createCdcBed, type CdcBed } from './support/cdc-bed';
import { sleep, startTsChild, type Child } from './support/children';
import { expectConverged } from './support/converge';
import { report } from './support/report';

const CHANGES = 20_000;
const OUTAGE_MS = 12_000;

interface TargetServer {
  child: Child;
  url: string;
  dataDir: string;
}

async function startTargetServer(dataDir: string, port: number): Promise<TargetServer> {
  const child = await startTsChild('test/faults/fixtures/run-postgres.ts', { PG_DATA_DIR: dataDir, PG_PORT: String(port) }, { ready: /ready \S+ \S+/, timeoutMs: 60_000 });
  const [, url, actualDir] = /ready (\S+) (\S+)/.exec(child.output())!;
  return { child, url, dataDir: actualDir };
}

describeWithKafka('fault 4: the target database server stops under load and starts again', () => {
  let pgDir: string;
  let pgPort: number;
  let targetServer: TargetServer | undefined;
  let bed: CdcBed;
  let source: CdcSource;
  let sink: CdcSink;
  let home: string;

  beforeAll(async () => {
    // A private Postgres for the users service's database only: stopping it must not touch the monolith's.
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-fault-pg-'));
    fs.chmodSync(home, 0o755);
    pgDir = path.join(home, 'pg');
    pgPort = await portForLater();
    targetServer = await startTargetServer(pgDir, pgPort);
    bed = await createCdcBed({ brokers: testKafkaBrokers(), serviceServerUrl: targetServer.url, seedRows: 2_000 });
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
    await targetServer?.child.stop(30_000);
    if (targetServer) fs.rmSync(targetServer.dataDir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('the sink retries through the outage and applies everything once the server is back: nothing lost, nothing twice', async () => {
    const started = Date.now();
    bed.burst.start(1_500, CHANGES);
    await bed.burst.reached(CHANGES / 4);
    // A fast shutdown: open transactions are aborted and every connection is cut, as in a crash or a failover.
    const stopped = targetServer!;
    targetServer = undefined;
    await stopped.child.stop(30_000);
    const downAt = Date.now();
    const changesAtStop = bed.burst.changes;
    await eventually(() => expect(sink.status().state).toBe('retrying'), OUTAGE_MS);
    const sinkDuring = sink.status();
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    const changesDuringOutage = bed.burst.changes - changesAtStop;
    targetServer = await startTargetServer(pgDir, pgPort);
    const outageMs = Date.now() - downAt;

    await bed.burst.reached(CHANGES);
    await bed.burst.stop();
    const converged = await expectConverged(bed, 120_000);
    await eventually(() => expect(sink.status().state).toBe('streaming'), 10_000);
    expect(bed.burst.failures).toBe(0);
    report('4-target-db-outage', {
      changes: bed.burst.changes,
      changesDuringOutage,
      outageMs,
      sinkDuringOutage: { state: sinkDuring.state, error: sinkDuring.error },
      catchUpMs: converged.waitedMs,
      rows: converged.counts.targetRows,
      sinkApplied: sink.status().applied,
      auditedWrites: converged.audit.writes,
      totalMs: Date.now() - started,
    });
  });
});
