import { Client } from 'pg';
import { createLogger } from '../../lib/logger';
import { CdcSource } from '../../migrations/cdc/source';
import { describeWithKafka, testKafkaBrokers } from '../harness/kafka';
import { createCdcBed, type CdcBed } from './support/cdc-bed';
import { killAllChildren, sleep, type Child } from './support/children';
import { expectConverged } from './support/converge';
import { startPipelineChild } from './support/pipeline';
import { report } from './support/report';

const CHANGES = 20_000;
const KILLS = 2;
/** Small transactions: the sink is inside one most of the time, so a kill lands mid-batch. */
const TX_EVENTS = '250';

/** Waits until the sink has a target transaction open (BEGIN sent, no COMMIT yet) and returns how long it took. */
async function openSinkTransaction(target: Client, applicationName: string, timeoutMs = 60_000): Promise<{ backendPid: number; state: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await target.query<{ pid: number; state: string }>(
      `SELECT pid, state FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND xact_start IS NOT NULL`,
      [applicationName],
    );
    if (rows.length) return { backendPid: rows[0].pid, state: rows[0].state };
    if (Date.now() > deadline) throw new Error(`the sink never had a transaction open within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describeWithKafka('fault 2: the sink is SIGKILLed in the middle of a target transaction', () => {
  let bed: CdcBed;
  let source: CdcSource;
  let sink: Child | undefined;
  let target: Client;

  beforeAll(async () => {
    bed = await createCdcBed({ brokers: testKafkaBrokers(), seedRows: 2_000 });
    source = new CdcSource({ definition: bed.definition, brokers: bed.brokers, logger: createLogger('source', 'silent'), heartbeatIntervalMs: 500 });
    await source.start();
    target = new Client({ connectionString: bed.definition.target.databaseUrl });
    await target.connect();
  });
  afterAll(async () => {
    await killAllChildren();
    await source?.stop();
    await target?.end();
    await bed?.drop();
  });

  it('rolls the open transaction back and resumes from the offset stored with the rows: nothing lost, nothing twice', async () => {
    const started = Date.now();
    const app = `strangler-sink-${bed.definition.name}`;
    sink = await startPipelineChild('sink', bed.definition, bed.brokers, { CDC_MAX_TX_EVENTS: TX_EVENTS });
    // Capped: the writes go on while the restarted sink waits for its group, and the backlog is part of the test.
    bed.burst.start(1_500, CHANGES);
    const kills: { atChanges: number; backendState: string; rolledBack: boolean; rejoinMs: number }[] = [];
    for (let k = 1; k <= KILLS; k++) {
      await bed.burst.reached((CHANGES * k) / (KILLS + 1));
      const open = await openSinkTransaction(target, app);
      const atChanges = bed.burst.changes;
      await sink.kill9();
      // The server notices the cut connection and rolls its transaction back: nothing of that chunk stays.
      let rolledBack = false;
      for (let i = 0; i < 100 && !rolledBack; i++) {
        const { rowCount } = await target.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [open.backendPid]);
        rolledBack = rowCount === 0;
        if (!rolledBack) await sleep(50);
      }
      // Same consumer group, as a restarted process would: it joins once Kafka expires the killed member's session.
      const t = Date.now();
      sink = await startPipelineChild('sink', bed.definition, bed.brokers, { CDC_MAX_TX_EVENTS: TX_EVENTS });
      kills.push({ atChanges, backendState: open.state, rolledBack, rejoinMs: Date.now() - t });
    }
    await bed.burst.reached(CHANGES);
    await bed.burst.stop();
    const burstMs = Date.now() - started;

    const converged = await expectConverged(bed);
    expect(kills.every((k) => k.rolledBack)).toBe(true);
    expect(bed.burst.failures).toBe(0);
    report('2-sink-sigkill', {
      changes: bed.burst.changes,
      kills,
      burstMs,
      catchUpMs: converged.waitedMs,
      rows: converged.counts.targetRows,
      auditedWrites: converged.audit.writes,
      totalMs: Date.now() - started,
    });
    await sink.stop();
  });
});
