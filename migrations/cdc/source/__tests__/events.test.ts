import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { topicFor, type ChangeEvent } from '../../events/envelope';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSource } from '../cdc-source';
import fixtures from './fixtures/debezium-events.json';
import { TopicCollector, connect, definitionFor, normalise, testLogger, testMessaging } from './helpers';

const asJson = (v: unknown) => JSON.stringify(v);

describeWithKafka('CDC source: snapshot and streaming envelopes', () => {
  let db: TestDatabase;
  let sql: Client;
  let messaging: Messaging;
  let definition: PipelineDefinition;
  let source: CdcSource;
  let collector: TopicCollector;
  let users: string;
  let orders: string;

  beforeAll(async () => {
    db = await createTestDatabase('cdcev');
    sql = await connect(db);
    await sql.query(`
      CREATE TABLE users (id serial PRIMARY KEY, email varchar(320) NOT NULL, name varchar(200) NOT NULL, created_at timestamptz NOT NULL);
      CREATE TABLE orders (id serial PRIMARY KEY, user_id integer NOT NULL, total_cents bigint NOT NULL);
      INSERT INTO users (email, name, created_at) VALUES
        ('anne@example.com', 'Anne', '2024-01-02 03:04:05.123456+00'),
        ('bob@example.com', 'Bob', '2024-01-02 03:04:06+00'),
        ('cleo@example.com', 'Cleo', '2024-01-02 03:04:07+00');
      INSERT INTO orders (user_id, total_cents) VALUES (1, 1250), (2, 99);
    `);
    messaging = testMessaging();
    definition = definitionFor(db, ['users', 'orders']);
    users = topicFor(definition.topicPrefix, 'public', 'users');
    orders = topicFor(definition.topicPrefix, 'public', 'orders');
    source = new CdcSource({ definition, brokers: [], messaging, logger: testLogger(), heartbeatIntervalMs: 500 });
    await source.start();
    collector = new TopicCollector(messaging);
    await collector.start([users, orders]);
  });

  afterAll(async () => {
    await source?.stop();
    await collector?.stop();
    await messaging?.disconnect();
    await sql?.end();
    await db?.drop();
  });

  it('snapshots existing rows as op "r" with Debezium snapshot markers, keyed by primary key', async () => {
    await eventually(() => expect(collector.events(users).length + collector.events(orders).length).toBe(5), 20_000);
    const userEvents = collector.of(users);
    expect(userEvents.map((m) => m.key)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(collector.events(users).map((e) => [e.op, e.source.snapshot])).toEqual([
      ['r', 'first'],
      ['r', 'true'],
      ['r', 'last_in_data_collection'],
    ]);
    expect(collector.events(orders).map((e) => [e.op, e.source.snapshot, e.after])).toEqual([
      ['r', 'first_in_data_collection', { id: 1, user_id: 1, total_cents: 1250 }],
      ['r', 'last', { id: 2, user_id: 2, total_cents: 99 }],
    ]);
    expect(asJson(normalise(collector.events(users)[0], definition))).toBe(asJson(fixtures.snapshotFirst));
    const status = await source.status();
    expect(status.state).toBe('streaming');
  });

  it('streams insert, update and delete (with tombstone) in Debezium shape', async () => {
    await sql.query(`INSERT INTO users (email, name, created_at) VALUES ('dora@example.com', 'Dora', '2024-03-04 05:06:07+00')`);
    await sql.query(`UPDATE users SET name = 'Dora D.' WHERE id = 4`);
    await sql.query(`DELETE FROM users WHERE id = 4`);

    const streamed = () => collector.of(users).slice(3);
    await eventually(() => expect(streamed()).toHaveLength(4), 20_000);
    const [created, updated, deleted, tomb] = streamed();
    expect([created.key, updated.key, deleted.key, tomb.key]).toEqual([{ id: 4 }, { id: 4 }, { id: 4 }, { id: 4 }]);
    expect(asJson(normalise(created.value!, definition))).toBe(asJson(fixtures.create));
    expect(asJson(normalise(updated.value!, definition))).toBe(asJson(fixtures.update));
    expect(asJson(normalise(deleted.value!, definition))).toBe(asJson(fixtures.delete));
    expect(tomb.value).toBeNull();

    // Commit time, not processing time; LSNs grow; txId differs per transaction.
    const events = [created.value!, updated.value!, deleted.value!];
    for (const e of events) expect(Math.abs(e.source.ts_ms - Date.now())).toBeLessThan(60_000);
    expect(events.map((e) => e.source.lsn!)).toEqual([...events.map((e) => e.source.lsn!)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.source.txId)).size).toBe(3);
  });

  it('turns a primary-key change into delete + tombstone for the old key, then create for the new one', async () => {
    const before = collector.of(users).length;
    await sql.query('UPDATE users SET id = 10 WHERE id = 1');
    await eventually(() => expect(collector.of(users).length).toBe(before + 3), 20_000);
    const [del, tomb, create] = collector.of(users).slice(before);
    expect([del.key, tomb.key, create.key]).toEqual([{ id: 1 }, { id: 1 }, { id: 10 }]);
    expect(asJson(normalise(del.value!, definition))).toBe(asJson(fixtures.pkChangeDelete));
    expect(tomb.value).toBeNull();
    expect(asJson(normalise(create.value!, definition))).toBe(asJson(fixtures.pkChangeCreate));
    expect(del.value!.source.txId).toBe(create.value!.source.txId);
  });

  it('skips a truncate, as Debezium does by default (skipped.operations=t)', async () => {
    const before = collector.of(orders).length;
    await sql.query('TRUNCATE orders');
    await sql.query('INSERT INTO orders (user_id, total_cents) VALUES (2, 7)');
    await eventually(() => expect(collector.of(orders).length).toBe(before + 1), 20_000);
    expect(collector.of(orders).slice(before).map((m) => m.value!.op)).toEqual(['c']);
  });

  it('keeps one transaction\'s changes in commit order across tables and reports its position', async () => {
    const u = collector.of(users).length;
    const o = collector.of(orders).length;
    await sql.query('BEGIN');
    await sql.query(`INSERT INTO users (id, email, name, created_at) VALUES (20, 'eve@example.com', 'Eve', now())`);
    await sql.query('INSERT INTO orders (user_id, total_cents) VALUES (20, 5)');
    await sql.query('COMMIT');
    await eventually(() => expect(collector.of(users).length + collector.of(orders).length).toBe(u + o + 2), 20_000);
    const user = collector.of(users)[u].value as ChangeEvent;
    const order = collector.of(orders)[o].value as ChangeEvent;
    expect(user.source.txId).toBe(order.source.txId);
    expect(user.source.lsn!).toBeLessThan(order.source.lsn!);
    const [userCommit] = JSON.parse(user.source.sequence!) as [string, string];
    expect(JSON.parse(order.source.sequence!)[0]).toBe(userCommit);

    await eventually(async () => {
      const status = await source.status();
      expect(status.lastCommitTs).toBe(order.source.ts_ms);
      expect(status.lastAckedLsn).not.toBeNull();
      expect(status.lagBytes).not.toBeNull();
    }, 10_000);
  });
});
