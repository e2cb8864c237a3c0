import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { topicFor } from '../../events/envelope';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSource } from '../cdc-source';
import { dropPipelineSource } from '../drop';
import { markSinkTransaction } from '../../pg/loop-guard';
import { TopicCollector, confirmedFlushLsn, connect, currentLsn, definitionFor, gated, refusing, testLogger, testMessaging } from './helpers';

describeWithKafka('CDC source: acknowledgements, heartbeats, loop guard, restarts', () => {
  let db: TestDatabase;
  let sql: Client;
  let messaging: Messaging;

  beforeAll(async () => {
    db = await createTestDatabase('cdcdl');
    sql = await connect(db);
    await sql.query(`
      CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL);
      CREATE TABLE unrelated (id serial PRIMARY KEY, payload text);
    `);
    messaging = testMessaging();
  });

  afterAll(async () => {
    await messaging?.disconnect();
    await sql?.end();
    await db?.drop();
  });

  async function startSource(definition: PipelineDefinition, extra: Partial<ConstructorParameters<typeof CdcSource>[0]> = {}) {
    const source = new CdcSource({ definition, brokers: [], messaging, logger: testLogger(), heartbeatIntervalMs: 200, ...extra });
    await source.start();
    return source;
  }

  it('never confirms to Postgres a change Kafka has not acknowledged, though keepalives and heartbeats flow', async () => {
    const definition = definitionFor(db, ['items']);
    const held = gated(messaging);
    // The table is empty: the snapshot sends nothing, so start() completes with the gate closed.
    const source = await startSource(definition, { messaging: held, statusIntervalMs: 100 });
    try {
      const confirmedAtStart = (await confirmedFlushLsn(sql, definition.slot))!;
      for (let i = 0; i < 20; i++) await sql.query('INSERT INTO items (label) VALUES ($1)', [`held-${i}`]);
      const afterWrites = await currentLsn(sql);
      await eventually(async () => {
        const status = await source.status();
        expect(status.lastReceivedLsn).not.toBeNull();
      });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await confirmedFlushLsn(sql, definition.slot)).toBe(confirmedAtStart);

      held.open();
      await eventually(async () => expect((await confirmedFlushLsn(sql, definition.slot))!).toBeGreaterThanOrEqual(afterWrites), 15_000);
    } finally {
      await source.stop();
      await dropPipelineSource(definition);
    }
  });

  it('says `retrying`, with the error, while Kafka refuses its changes, and `streaming` again once they are delivered', async () => {
    const definition = definitionFor(db, ['items']);
    // Nothing to snapshot: start() would otherwise wait for a snapshot Kafka refuses.
    await sql.query('TRUNCATE items');
    const down = refusing(messaging);
    const source = await startSource(definition, { messaging: down });
    try {
      await sql.query(`INSERT INTO items (label) VALUES ('while-kafka-is-down')`);
      await eventually(async () => expect(await source.status()).toMatchObject({ state: 'retrying', error: expect.stringContaining('ECONNREFUSED') }), 10_000);
      down.recover();
      await eventually(async () => expect((await source.status()).state).toBe('streaming'), 15_000);
      expect((await source.status()).error).toBeUndefined();
    } finally {
      await source.stop();
      await dropPipelineSource(definition);
    }
  });

  it('lets an idle source confirm WAL written elsewhere through its heartbeat', async () => {
    const definition = definitionFor(db, ['items']);
    const source = await startSource(definition);
    try {
      for (let i = 0; i < 50; i++) await sql.query('INSERT INTO unrelated (payload) VALUES (repeat($1, 200))', ['x']);
      const afterWrites = await currentLsn(sql);
      await eventually(async () => expect((await confirmedFlushLsn(sql, definition.slot))!).toBeGreaterThan(afterWrites), 10_000);
      // The slot now holds back nothing written before afterWrites: the reported lag is at most what the server
      // wrote since (other test files write to the same server at the same time, so no fixed bound holds).
      const status = await source.status();
      expect(status.lagBytes).toBeLessThan(Number((await currentLsn(sql)) - afterWrites));
    } finally {
      await source.stop();
      await dropPipelineSource(definition);
    }
  });

  it('drops transactions marked by the opposite pipeline\'s sink, and only those', async () => {
    const definition = definitionFor(db, ['items']);
    const topic = topicFor(definition.topicPrefix, 'public', 'items');
    await sql.query('TRUNCATE items');
    const source = await startSource(definition);
    const collector = new TopicCollector(messaging);
    try {
      await collector.start([topic]);
      const write = async (label: string, mark?: string) => {
        await sql.query('BEGIN');
        if (mark) await markSinkTransaction(sql, mark);
        await sql.query('INSERT INTO items (label) VALUES ($1)', [label]);
        await sql.query('COMMIT');
      };
      await write('from-reverse-sink', `${definition.context}-reverse`);
      await write('from-another-sink', 'someone-else-reverse');
      await write('from-the-application');
      await eventually(() => expect(collector.events(topic).map((e) => e.after?.label)).toContain('from-the-application'), 15_000);
      expect(collector.events(topic).map((e) => e.after?.label)).toEqual(['from-another-sink', 'from-the-application']);
      expect((await source.status()).skippedTransactions).toBe(1);
    } finally {
      await collector.stop();
      await source.stop();
      await dropPipelineSource(definition);
    }
  });

  it('resumes from the slot after a restart: no second snapshot, nothing missed, nothing repeated', async () => {
    const definition = definitionFor(db, ['items']);
    const topic = topicFor(definition.topicPrefix, 'public', 'items');
    await sql.query('TRUNCATE items');
    await sql.query(`INSERT INTO items (label) VALUES ('existing')`);
    let source = await startSource(definition);
    const collector = new TopicCollector(messaging);
    try {
      await sql.query(`INSERT INTO items (label) VALUES ('while-running')`);
      // A fresh topic's first produce can take seconds on a loaded machine (leader election).
      await eventually(async () => expect((await source.status()).lastCommitTs).not.toBeNull(), 30_000);
      await source.stop();
      expect((await source.status()).state).toBe('stopped');
      await sql.query(`INSERT INTO items (label) VALUES ('while-stopped')`);
      source = await startSource(definition);
      await sql.query(`INSERT INTO items (label) VALUES ('after-restart')`);
      await collector.start([topic]);
      await eventually(() => expect(collector.events(topic)).toHaveLength(4), 30_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(collector.events(topic).map((e) => [e.op, e.after?.label])).toEqual([
        ['r', 'existing'],
        ['c', 'while-running'],
        ['c', 'while-stopped'],
        ['c', 'after-restart'],
      ]);
    } finally {
      await collector.stop();
      await source.stop();
    }
    await dropPipelineSource(definition);
    const { rows } = await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 UNION ALL SELECT 1 FROM pg_publication WHERE pubname = $2', [definition.slot, definition.publication]);
    expect(rows).toHaveLength(0);
  });
});
