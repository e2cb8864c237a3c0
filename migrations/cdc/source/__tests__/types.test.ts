import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { topicFor } from '../../events/envelope';
import { CdcSource } from '../cdc-source';
import { TopicCollector, connect, definitionFor, testLogger, testMessaging } from './helpers';

/** Debezium's values for the row inserted below (its defaults: decimal.handling.mode=precise, …). */
const EXPECTED = {
  id: 1,
  small: -7,
  big: 9007199254740991,
  flag: true,
  price: Buffer.from([0x01, 0xe2, 0x3a]).toString('base64'), // 123450 at numeric(10,2)'s scale
  ratio: 0.25,
  nan: 'NaN',
  label: 'héllo "quoted"',
  code: 'ab   ',
  uid: '0e5d6f4c-79a2-4a7e-9a35-6c1b2b7d8e9f',
  doc: '{"a": [1, 2], "b": null}',
  raw_json: '{ "x" : 1 }',
  bytes: Buffer.from([0, 1, 2, 254, 255]).toString('base64'),
  born: 19_723,
  ancient: -719_528,
  at_local: 1_704_164_645_123_456,
  at_local_ms: 1_704_164_645_123,
  at_zone: '2024-01-02T01:04:05.123456Z',
  at_zone_ms: '2024-01-02T03:04:05.100Z',
  at_time: 45_296_789_000,
  at_timetz: '10:34:56Z',
  span: 93_784_000_000 + Math.trunc(14 * (365.25 / 12) * 86_400_000_000),
  tags: ['a', 'b c', null],
  numbers: [1, 2, 3],
  status: 'paid',
  positive: 5,
  nothing: null,
};

describeWithKafka('CDC source: value types', () => {
  let db: TestDatabase;
  let sql: Client;
  let messaging: Messaging;
  let source: CdcSource;
  let collector: TopicCollector;

  beforeAll(async () => {
    db = await createTestDatabase('cdcty');
    sql = await connect(db);
    await sql.query(`
      CREATE TYPE order_status AS ENUM ('pending', 'paid');
      CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
      CREATE TABLE everything (
        id serial PRIMARY KEY, small int2, big int8, flag boolean, price numeric(10,2), ratio float8, nan float4,
        label text, code char(5), uid uuid, doc jsonb, raw_json json, bytes bytea, born date, ancient date,
        at_local timestamp, at_local_ms timestamp(3), at_zone timestamptz, at_zone_ms timestamptz(3), at_time time,
        at_timetz timetz, span interval, tags text[], numbers int4[], status order_status, positive positive_int,
        nothing text
      );
      SET TIME ZONE 'Europe/Paris';
      INSERT INTO everything (small, big, flag, price, ratio, nan, label, code, uid, doc, raw_json, bytes, born, ancient,
        at_local, at_local_ms, at_zone, at_zone_ms, at_time, at_timetz, span, tags, numbers, status, positive, nothing)
      VALUES (-7, 9007199254740991, true, 1234.5, 0.25, 'NaN', 'héllo "quoted"', 'ab', '0e5d6f4c-79a2-4a7e-9a35-6c1b2b7d8e9f',
        '{"b": null, "a": [1, 2]}', '{ "x" : 1 }', '\\x000102feff', '2024-01-01', '0001-01-01 BC',
        '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.123456+02', '2024-01-02 03:04:05.1+00',
        '12:34:56.789', '12:34:56+02', '1 year 2 mons 1 day 02:03:04', ARRAY['a', 'b c', NULL], '{1,2,3}', 'paid', 5, NULL);
    `);
    messaging = testMessaging();
    const definition = definitionFor(db, ['everything']);
    source = new CdcSource({ definition, brokers: [], messaging, logger: testLogger(), heartbeatIntervalMs: 0 });
    await source.start();
    collector = new TopicCollector(messaging);
    await collector.start([topicFor(definition.topicPrefix, 'public', 'everything')]);
    // A no-op update: its `before` is the streamed image of the row the snapshot read.
    await sql.query('UPDATE everything SET nothing = NULL');
    await eventually(() => expect(collector.messages).toHaveLength(2), 20_000);
  });

  afterAll(async () => {
    await source?.stop();
    await collector?.stop();
    await messaging?.disconnect();
    await sql?.end();
    await db?.drop();
  });

  it('maps each Postgres type to what Debezium emits', () => {
    const snapshot = collector.messages[0].value!;
    expect(snapshot.op).toBe('r');
    expect(snapshot.after).toEqual(EXPECTED);
  });

  it('gives the same JSON for a row whether it was snapshotted or streamed', () => {
    const [snapshot, update] = collector.messages.map((m) => m.value!);
    expect(update.op).toBe('u');
    expect(JSON.stringify(update.before)).toBe(JSON.stringify(snapshot.after));
    expect(JSON.stringify(update.after)).toBe(JSON.stringify(snapshot.after));
  });
});
