import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { CdcSource } from '../cdc-source';
import { dropPipelineSource } from '../drop';
import { topicFor } from '../../events/envelope';
import { formatLsn, parseLsn } from '../../pg/lsn';
import { connect, definitionFor, testLogger, testMessaging } from './helpers';

const BURST = 100_000;

// The rates are printed, not asserted: speed is `npm run bench`'s job (bench/cdc), and a floor here would only
// measure how busy the CI machine is. What is asserted is that the whole burst gets through, each row once.

/** Kafka replaced by a producer that drops everything: what decoding and building envelopes cost alone. */
function discarding(inner: Messaging): Messaging {
  return { ...inner, producer: () => ({ send: async () => undefined, disconnect: async () => undefined }) };
}

describeWithKafka('CDC source throughput (100k-row burst)', () => {
  let db: TestDatabase;
  let sql: Client;
  let messaging: Messaging;

  beforeAll(async () => {
    db = await createTestDatabase('cdcbench');
    sql = await connect(db);
    await sql.query(`CREATE TABLE users (id serial PRIMARY KEY, email varchar(320) NOT NULL, name varchar(200) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    messaging = testMessaging();
  });

  afterAll(async () => {
    await messaging?.disconnect();
    await sql?.end();
    await db?.drop();
  });

  async function measure(label: string, kafka: Messaging): Promise<{ rate: number; topic: string }> {
    const definition = definitionFor(db, ['users']);
    await sql.query('TRUNCATE users');
    const source = new CdcSource({ definition, brokers: [], messaging: kafka, logger: testLogger(), heartbeatIntervalMs: 0, statusIntervalMs: 1_000 });
    await source.start();
    try {
      await sql.query(`INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, ${BURST}) g`);
      // From the commit: the source only sees a transaction once it committed.
      const began = Date.now();
      const { rows } = await sql.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      const target = parseLsn(rows[0].lsn);
      await eventually(async () => {
        const acked = (await source.status()).lastAckedLsn;
        expect(acked !== null && parseLsn(acked) >= target - 4096n).toBe(true);
      }, 50_000, 20);
      const rate = Math.round(BURST / ((Date.now() - began) / 1000));
      process.stderr.write(`${label}: ${BURST} rows in one transaction → ${rate} rows/s (target ${formatLsn(target)})\n`);
      return { rate, topic: topicFor(definition.topicPrefix, 'public', 'users') };
    } finally {
      await source.stop();
      await dropPipelineSource(definition);
    }
  }

  it('decodes and builds envelopes for a 100k-row burst and confirms all of it (Kafka replaced by a no-op)', async () => {
    // measure() fails unless the source confirms the whole burst to Postgres (everything up to its commit "sent").
    await measure('decode + envelope', discarding(messaging));
  });

  it('delivers a 100k-row burst to Kafka (acks=all, idempotent): one event per row, none doubled', async () => {
    const { topic } = await measure('decode + envelope + Kafka', messaging);
    const ends = await messaging.admin.endOffsets(topic);
    expect(ends.reduce((n, e) => n + Number(e.offset), 0)).toBe(BURST);
  });
});
