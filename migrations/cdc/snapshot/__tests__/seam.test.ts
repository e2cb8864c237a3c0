import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { topicFor, type ChangeEvent } from '../../events/envelope';
import { CdcSource } from '../../source/cdc-source';
import { TopicCollector, connect, definitionFor, gated, testLogger, testMessaging } from '../../source/__tests__/helpers';

const ROWS = 20_000;

interface Account {
  id: number;
  version: number;
  balance: number;
}

describeWithKafka('snapshot/stream seam under concurrent writes', () => {
  let db: TestDatabase;
  let sql: Client;
  let writerSql: Client;
  let messaging: Messaging;

  beforeAll(async () => {
    db = await createTestDatabase('cdcseam');
    sql = await connect(db);
    writerSql = await connect(db);
    await sql.query(`
      CREATE TABLE accounts (id integer PRIMARY KEY, version integer NOT NULL, balance integer NOT NULL);
      INSERT INTO accounts SELECT g, 0, 100 FROM generate_series(1, ${ROWS}) g;
    `);
    messaging = testMessaging();
  });

  afterAll(async () => {
    await messaging?.disconnect();
    await writerSql?.end();
    await sql?.end();
    await db?.drop();
  });

  it('misses and doubles nothing: every row version appears exactly once and the last one is the final state', async () => {
    const definition = definitionFor(db, ['accounts']);
    const topic = topicFor(definition.topicPrefix, 'public', 'accounts');
    // Kafka takes nothing until the writer below has committed OVERLAP transactions while the snapshot runs: the
    // snapshot's small backlog fills and it waits, so the overlap does not depend on how fast this machine is.
    const OVERLAP = 100;
    const held = gated(messaging);
    const source = new CdcSource({ definition, brokers: [], messaging: held, logger: testLogger(), snapshotChunkRows: 250, maxPendingRecords: 500, maxBatchRecords: 250 });
    const started = source.start();
    try {
      await eventually(async () => {
        const s = await source.status();
        expect(s.state === 'snapshotting' && s.snapshot!.rows > 0).toBe(true);
      }, 20_000);

      let duringSnapshot = 0;
      let nextId = ROWS + 1;
      let snapshotDoneAt: number | null = null;
      const rand = (n: number) => 1 + Math.floor(Math.random() * n);
      for (let i = 0; ; i++) {
        const state = (await source.status()).state;
        if (state === 'snapshotting') duringSnapshot++;
        else snapshotDoneAt ??= i;
        if (duringSnapshot === OVERLAP) held.open();
        if (snapshotDoneAt !== null && i - snapshotDoneAt > 200) break;
        await writerSql.query('BEGIN');
        await writerSql.query('UPDATE accounts SET version = version + 1, balance = balance + 1 WHERE id = $1', [rand(ROWS)]);
        if (i % 5 === 0) await writerSql.query('INSERT INTO accounts VALUES ($1, 0, 0)', [nextId++]);
        if (i % 7 === 0) await writerSql.query('DELETE FROM accounts WHERE id = $1', [rand(ROWS)]);
        await writerSql.query('COMMIT');
      }
      await started;
      expect(duringSnapshot).toBeGreaterThanOrEqual(OVERLAP);
      await checkTopic(topic, nextId - 1);
    } finally {
      held.open();
      await started.catch(() => undefined);
      await source.stop();
    }
  });

  async function checkTopic(topic: string, maxId: number): Promise<void> {
    const finalRows = new Map((await sql.query<Account>('SELECT id, version, balance FROM accounts')).rows.map((r) => [r.id, r]));
    const collector = new TopicCollector(messaging);
    await collector.start([topic]);
    try {
      const byKey = () => {
        const map = new Map<number, (ChangeEvent | null)[]>();
        for (const m of collector.of(topic)) {
          const id = (m.key as { id: number }).id;
          map.set(id, [...(map.get(id) ?? []), m.value]);
        }
        return map;
      };
      await eventually(() => {
        const events = byKey();
        for (let id = 1; id <= maxId; id++) {
          const list = events.get(id) ?? [];
          const last = list.at(-1);
          const row = finalRows.get(id);
          if (row) expect(last?.after).toEqual(row);
          else expect(list.slice(-2).map((e) => e?.op ?? 'tombstone')).toEqual(['d', 'tombstone']);
        }
      }, 30_000, 250);

      for (const [id, list] of byKey()) {
        const images = list.filter((e): e is ChangeEvent => e !== null && e.after !== null);
        expect(images.filter((e) => e.op === 'r').length).toBeLessThanOrEqual(1);
        const versions = images.map((e) => e.after!.version as number);
        // Contiguous and strictly increasing: a doubled change repeats a version, a missed one leaves a gap.
        const expected = versions.length ? Array.from({ length: versions.length }, (_, i) => versions[0] + i) : [];
        if (JSON.stringify(versions) !== JSON.stringify(expected)) throw new Error(`row ${id}: versions ${versions.join(',')}`);
        if (id > ROWS) expect(images[0]?.op ?? 'c').toBe('c');
      }
    } finally {
      await collector.stop();
    }
  }
});
