import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { reconcile } from '../../../reconcile';
import { topicFor } from '../../events/envelope';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSink } from '../../sink/cdc-sink';
import { createShop, query, type Shop } from '../../sink/__tests__/fixtures';
import { CdcSource, dropPipelineSource } from '../../source';
import { TopicCollector, testMessaging } from '../../source/__tests__/helpers';

const USERS = 6_000;
const ORDERS = 2_000;
const WRITES = 300;

/** Slots and publications are per server: give each pipeline of this file its own. */
const ownSlot = (d: PipelineDefinition): PipelineDefinition => {
  const id = `strangler_${d.name.replace(/[^a-z0-9_]/g, '_')}`;
  return { ...d, slot: id, publication: id };
};

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

/** The monolith's users carry a version in their name (`v<N>`), so the service side can tell repeats and gaps. */
async function seed(url: string): Promise<void> {
  await query(
    url,
    `INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'v0' FROM generate_series(1, ${USERS}) g;
     INSERT INTO orders (user_id, status, total_cents) SELECT g, 'paid', g * 100 FROM generate_series(1, ${ORDERS}) g;
     INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents)
       SELECT o, p, 'SKU-' || o || '-' || p, p + 1, 50 FROM generate_series(1, ${ORDERS}) o, generate_series(0, 2) p;`,
  );
}

/** A shop whose monolith is seeded and whose service ran `serviceSql`, for one describe block. */
function seededShop(serviceSql: string): { shop: Shop; forward: PipelineDefinition } {
  const bed = {} as { shop: Shop; forward: PipelineDefinition };
  beforeAll(async () => {
    bed.shop = await createShop();
    bed.forward = ownSlot(bed.shop.forward);
    await seed(bed.shop.monolith.url);
    await query(bed.shop.service.url, serviceSql);
  }, 60_000);
  afterAll(async () => {
    if (bed.forward) await dropPipelineSource(bed.forward).catch(() => undefined);
    await bed.shop?.drop();
  });
  return bed;
}

describeWithKafka('bulk initial load (COPY from the exported snapshot) and the seam to streaming', () => {
  const logger = createLogger('bulk-load-test', 'silent');
  const brokers = testKafkaBrokers();

  describe('first start of a forward pipeline with writes running during the load', () => {
    let shop: Shop;
    let forward: PipelineDefinition;
    let sink: CdcSink;
    let source: CdcSource;

    beforeAll(async () => {
      shop = await createShop();
      forward = ownSlot(shop.forward);
      await seed(shop.monolith.url);
      // Every write that reaches the service's users, in order, also in replica mode (the sink's and the load's).
      await query(
        shop.service.url,
        `CREATE TABLE applied (seq bigserial PRIMARY KEY, op text NOT NULL, id integer NOT NULL, name text);
         CREATE FUNCTION record_applied() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           INSERT INTO applied (op, id, name) VALUES (TG_OP, COALESCE(NEW.id, OLD.id), CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.full_name END);
           RETURN NULL;
         END $$;
         CREATE TRIGGER record_applied AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION record_applied();
         ALTER TABLE users ENABLE ALWAYS TRIGGER record_applied;`,
      );
    }, 60_000);

    afterAll(async () => {
      await source?.stop();
      await sink?.stop();
      await dropPipelineSource(forward).catch(() => undefined);
      await shop?.drop();
    });

    it('loads every row through the mapping, then streams from the consistent point: nothing lost, nothing doubled', async () => {
      expect(forward.snapshot).toBe('bulk'); // the plan's default
      sink = new CdcSink({ definition: forward, brokers, logger });
      await sink.start();

      // A writer runs on the monolith from before the slot exists until after streaming started, so changes commit
      // before, at and after the consistent point. The service's users table is locked until WRITES of them have
      // committed while the load runs: its COPY into that table waits meanwhile, whatever this machine's speed.
      const lock = await connect(shop.service.url);
      await lock.query('BEGIN');
      // EXCLUSIVE: the load's reads of the table pass, its COPY into it waits.
      await lock.query('LOCK TABLE users IN EXCLUSIVE MODE');
      const writer = await connect(shop.monolith.url);
      let nextUser = USERS;
      let writes = 0;
      let writing = true;
      const rand = (n: number) => 1 + Math.floor(Math.random() * n);
      const writeLoop = (async () => {
        for (let i = 0; writing; i++, writes++) {
          await writer.query('BEGIN');
          await writer.query(`UPDATE users SET name = 'v' || (substr(name, 2)::int + 1) WHERE id = $1`, [rand(USERS)]);
          if (i % 4 === 0) await writer.query(`INSERT INTO users (email, name) VALUES ($1, 'v0')`, [`late${++nextUser}@example.com`]);
          if (i % 9 === 0) await writer.query('DELETE FROM users u WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)', [rand(USERS)]);
          if (i % 5 === 0) await writer.query('UPDATE order_items SET quantity = quantity + 1 WHERE order_id = $1 AND position = 1', [rand(ORDERS)]);
          if (i % 7 === 0) await writer.query('DELETE FROM order_items WHERE order_id = $1 AND position = 0', [rand(ORDERS)]);
          if (i % 11 === 0) {
            // A user that still exists: the deletes above may have taken the one a random id names (a foreign-key
            // error would end this writer, and the test would wait for writes that never come).
            const { rows } = await writer.query<{ id: number }>(
              `INSERT INTO orders (user_id, status, total_cents) SELECT id, 'pending', 700 FROM users WHERE id <= $1 ORDER BY id DESC LIMIT 1 RETURNING id`,
              [rand(USERS / 2)],
            );
            if (rows[0]) await writer.query(`INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents) VALUES ($1, 0, 'NEW', 1, 700)`, [rows[0].id]);
          }
          await writer.query('COMMIT');
        }
      })();
      let started: Promise<void> | null = null;
      try {
        await eventually(() => expect(writes).toBeGreaterThan(20), 30_000);
        source = new CdcSource({ definition: forward, brokers, logger, heartbeatIntervalMs: 1_000, bulkParallel: 3, bulkChunkPages: 4 });
        started = source.start();
        await eventually(async () => {
          const waiting = await query(
            shop.service.url,
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY%'`,
          );
          expect(waiting[0].n).toBeGreaterThan(0);
        }, 30_000);
        const during = writes;
        await eventually(() => expect(writes - during).toBeGreaterThanOrEqual(WRITES), 60_000);
        expect((await source.status()).state).toBe('snapshotting');
        await lock.query('COMMIT');
        await started;
        const after = writes;
        await eventually(() => expect(writes - after).toBeGreaterThanOrEqual(50), 30_000);
      } finally {
        writing = false;
        await writeLoop.catch(() => undefined);
        await lock.query('COMMIT').catch(() => undefined);
        await lock.end();
        await writer.end();
        await started?.catch(() => undefined);
      }

      // Everything the monolith holds is in the service, mapped (name → full_name, items folded into orders).
      await eventually(async () => {
        const result = await reconcile({ definition: forward, limit: 5 });
        expect(result.tables.map((t) => [t.target, t.missingCount, t.extraCount, t.differentCount])).toEqual([
          ['users', 0, 0, 0],
          ['orders', 0, 0, 0],
        ]);
        expect(result.clean).toBe(true);
      }, 60_000, 500);
      const [counts] = await query<{ users: number; items: number }>(
        shop.service.url,
        `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT sum(jsonb_array_length(items))::int FROM orders) AS items`,
      );
      const [monolith] = await query<{ users: number; items: number }>(
        shop.monolith.url,
        'SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM order_items) AS items',
      );
      expect(counts).toEqual(monolith);

      // Per user, the versions the service took only ever go up: a change both loaded and streamed would repeat
      // one. Each id was inserted once (by the load or by its streamed create).
      const applied = await query<{ op: string; id: number; name: string | null }>(shop.service.url, 'SELECT op, id, name FROM applied ORDER BY seq');
      const byId = new Map<number, { op: string; name: string | null }[]>();
      for (const a of applied) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
      for (const [id, list] of byId) {
        expect([id, list.filter((a) => a.op === 'INSERT').length]).toEqual([id, 1]);
        const versions = list.filter((a) => a.op !== 'DELETE').map((a) => Number(a.name!.slice(1)));
        for (let i = 1; i < versions.length; i++) if (versions[i] <= versions[i - 1]) throw new Error(`user ${id}: versions ${versions.join(',')}`);
      }

      // No snapshot events went to Kafka, only streamed changes: among them the creates of the users inserted after
      // the consistent point (those inserted before it came with the load), each once.
      const collector = new TopicCollector(testMessaging());
      const topic = topicFor(forward.topicPrefix, 'public', 'users');
      await collector.start([topic]);
      try {
        await eventually(() => expect(collector.events(topic).some((e) => e.op === 'u')).toBe(true), 30_000);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const events = collector.events(topic);
        expect(events.filter((e) => e.op === 'r')).toHaveLength(0);
        const created = events.filter((e) => e.op === 'c').map((e) => e.after!.id as number);
        expect(created.length).toBeGreaterThan(0);
        expect(new Set(created).size).toBe(created.length);
        expect(created.every((id) => id > USERS && id <= nextUser)).toBe(true);
      } finally {
        await collector.stop();
      }

      const status = await source.status();
      expect(status.state).toBe('streaming');
      expect(status.snapshot).toBeNull();
    }, 180_000);
  });

  describe('a target that already holds rows', () => {
    const bed = seededShop(`INSERT INTO users (id, email, full_name) VALUES (999999, 'stale@example.com', 'stale')`);

    it('is refused, naming the table, and nothing is loaded; --force truncates it first and loads', async () => {
      const refused = new CdcSource({ definition: bed.forward, brokers, logger });
      await expect(refused.start()).rejects.toThrow(new RegExp(`target table ${bed.shop.service.name}\\.public\\.users is not empty.*--force`));
      expect((await refused.status()).state).toBe('error');
      expect(await query(bed.shop.service.url, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 0 }]);
      expect(await query(bed.shop.monolith.url, 'SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [bed.forward.slot])).toEqual([{ n: 0 }]);

      const forced = new CdcSource({ definition: bed.forward, brokers, logger, truncateTarget: true });
      await forced.start();
      try {
        expect(await query(bed.shop.service.url, 'SELECT count(*)::int AS n FROM users WHERE id = 999999')).toEqual([{ n: 0 }]);
        expect(await query(bed.shop.service.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: USERS }]);
        expect(await query(bed.shop.service.url, 'SELECT count(*)::int AS n FROM orders WHERE jsonb_array_length(items) = 3')).toEqual([{ n: ORDERS }]);
        const [load] = await query<{ state: string; rows: string }>(bed.shop.service.url, 'SELECT state, rows::text FROM strangler_cdc.bulk_loads WHERE pipeline = $1', [bed.forward.name]);
        expect(load).toEqual({ state: 'streaming', rows: String(USERS + ORDERS + 3 * ORDERS) });
      } finally {
        await forced.stop();
      }
    }, 120_000);
  });

  describe('rows the service rejects', () => {
    const bed = seededShop('ALTER TABLE users ADD COLUMN nickname text NOT NULL');

    it('stop the load in error naming the table and the column; no slot is left, and the partial load is marked as one', async () => {
      const source = new CdcSource({ definition: bed.forward, brokers, logger });
      const failure = await source.start().then(
        () => null,
        (err: Error) => err,
      );
      expect(failure).toMatchObject({ name: 'BulkLoadRefusedError', retriable: false, message: expect.stringMatching(/failed on users: .*nickname.*change the plan's mapping or the service's schema/) });
      expect((await source.status()).state).toBe('error');
      expect(await query(bed.shop.service.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 0 }]);
      expect(await query(bed.shop.monolith.url, 'SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [bed.forward.slot])).toEqual([{ n: 0 }]);
      // Chunks of other tables may have committed: the next start takes them for its own leftovers and truncates.
      expect(await query(bed.shop.service.url, 'SELECT state FROM strangler_cdc.bulk_loads WHERE pipeline = $1', [bed.forward.name])).toEqual([{ state: 'loading' }]);
    }, 60_000);
  });
});
