import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { CdcSource } from '../cdc-source';
import { dropPipelineSource } from '../drop';
import { formatLsn, parseLsn } from '../lsn';
import { connect, definitionFor, testLogger, testMessaging } from './helpers';

const BURST = 100_000;

// Floors well under what this machine measures (see the printed rates): a sanity check, not the benchmark.

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

  async function measure(label: string, kafka: Messaging): Promise<number> {
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
      return rate;
    } finally {
      await source.stop();
      await dropPipelineSource(definition);
    }
  }

  it('decodes and builds envelopes for a burst at a useful rate (Kafka replaced by a no-op)', async () => {
    expect(await measure('decode + envelope', discarding(messaging))).toBeGreaterThan(5_000);
  });

  it('delivers a burst to Kafka (acks=all, idempotent) at a useful rate', async () => {
    expect(await measure('decode + envelope + Kafka', messaging)).toBeGreaterThan(2_000);
  });
});
