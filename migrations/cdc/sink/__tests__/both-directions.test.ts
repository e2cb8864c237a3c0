import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { reconcile } from '../../../reconcile';
import { assignDisjointIdRange } from '../../ids';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSource, dropPipelineSource } from '../../source';
import { CdcSink } from '../cdc-sink';
import { createShop, query, type Shop } from './fixtures';

/** Slots and publications are per server: give this file's pipelines their own. */
const ownSlot = (d: PipelineDefinition): PipelineDefinition => {
  const id = `strangler_${d.name.replace(/[^a-z0-9_]/g, '_')}`;
  return { ...d, slot: id, publication: id };
};

describeWithKafka('both directions with the real source', () => {
  let shop: Shop;
  let forward: PipelineDefinition;
  let reverse: PipelineDefinition;
  const logger = createLogger('e2e', 'silent');
  const running: { stop(): Promise<void> }[] = [];
  let forwardSink: CdcSink;
  let reverseSink: CdcSink;
  let forwardSource: CdcSource;
  let reverseSource: CdcSource;

  beforeAll(async () => {
    shop = await createShop();
    forward = ownSlot(shop.forward);
    reverse = ownSlot(shop.reverse);
    await query(
      shop.monolith.url,
      `INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 200) g;
       INSERT INTO orders (user_id, status, total_cents) SELECT g, 'paid', g * 100 FROM generate_series(1, 100) g;
       INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents)
         SELECT o, p, 'SKU-' || o || '-' || p, p + 1, 50 FROM generate_series(1, 100) o, generate_series(0, 1) p;`,
    );
    expect((await assignDisjointIdRange(forward)).ok).toBe(true);

    const brokers = testKafkaBrokers();
    // Reverse first, over the still empty service: its snapshot sends nothing back to the monolith.
    reverseSource = new CdcSource({ definition: reverse, brokers, logger, heartbeatIntervalMs: 1_000 });
    reverseSink = new CdcSink({ definition: reverse, brokers, logger });
    forwardSource = new CdcSource({ definition: forward, brokers, logger, heartbeatIntervalMs: 1_000 });
    forwardSink = new CdcSink({ definition: forward, brokers, logger });
    for (const part of [reverseSource, reverseSink, forwardSource, forwardSink]) {
      await part.start();
      running.push(part);
    }
  }, 60_000);

  afterAll(async () => {
    for (const part of running.reverse()) await part.stop();
    await dropPipelineSource(forward).catch(() => undefined);
    await dropPipelineSource(reverse).catch(() => undefined);
    await shop.drop();
  });

  async function inTransaction(url: string, sql: string): Promise<void> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`BEGIN; ${sql}; COMMIT;`);
    } finally {
      await client.end();
    }
  }

  it('syncs both ways without loops, and both sides reconcile equal', async () => {
    // The snapshot arrives in the service: 200 users, 100 orders with their items folded in.
    await eventually(async () => expect(await query(shop.service.url, 'SELECT count(*)::int AS n FROM orders WHERE jsonb_array_length(items) = 2')).toEqual([{ n: 100 }]), 30_000);

    // The monolith places an order (one transaction, two tables) and renames a user.
    await inTransaction(
      shop.monolith.url,
      `INSERT INTO orders (id, user_id, status, total_cents) VALUES (500, 7, 'pending', 300);
       INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents) VALUES (500, 0, 'M-A', 1, 100), (500, 1, 'M-B', 2, 100);
       UPDATE users SET name = 'Renamed In Monolith' WHERE id = 3`,
    );
    // The service creates a user and that user's order with items, and cancels a monolith order.
    await inTransaction(
      shop.service.url,
      `INSERT INTO users (email, full_name) VALUES ('svc@example.com', 'Made In Service');
       INSERT INTO orders (user_id, status, total_cents, items)
         VALUES (currval('users_id_seq'), 'paid', 777, '[{"sku":"S-A","quantity":1,"unitPriceCents":300},{"sku":"S-B","quantity":2,"unitPriceCents":200}]');
       UPDATE orders SET status = 'cancelled' WHERE id = 9`,
    );

    await eventually(async () => {
      const [svcOrder] = await query(shop.service.url, 'SELECT items FROM orders WHERE id = 500');
      expect(svcOrder?.items).toEqual([
        { sku: 'M-A', quantity: 1, unitPriceCents: 100 },
        { sku: 'M-B', quantity: 2, unitPriceCents: 100 },
      ]);
      expect(await query(shop.monolith.url, "SELECT u.id >= 1000000000 AS service_id, u.name, o.status FROM orders o JOIN users u ON u.id = o.user_id WHERE o.total_cents = 777")).toEqual([
        { service_id: true, name: 'Made In Service', status: 'paid' },
      ]);
      expect(await query(shop.monolith.url, 'SELECT sku FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.total_cents = 777 ORDER BY position')).toEqual([
        { sku: 'S-A' },
        { sku: 'S-B' },
      ]);
      expect(await query(shop.monolith.url, 'SELECT status FROM orders WHERE id = 9')).toEqual([{ status: 'cancelled' }]);
      expect(await query(shop.service.url, 'SELECT full_name FROM users WHERE id = 3')).toEqual([{ full_name: 'Renamed In Monolith' }]);
    }, 30_000);

    // No ping-pong: each side's changes crossed once. The reverse pipeline carried only the service's own 3 changes,
    // the forward one the monolith's 4 (its 500 snapshot rows came by the bulk load, not through the sink); neither
    // the sinks' writes nor the load's (the reverse source was streaming during it) were captured back.
    const settle = async () => [forwardSink.status().applied, reverseSink.status().applied];
    await eventually(async () => expect(await settle()).toEqual([4, 3]), 15_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await settle()).toEqual([4, 3]);
    expect((await forwardSource.status()).skippedTransactions).toBeGreaterThan(0);
    expect((await reverseSource.status()).skippedTransactions).toBeGreaterThan(0);
    for (const sink of [forwardSink, reverseSink]) expect(sink.status()).toMatchObject({ conflicts: 0, deadLetters: 0 });

    const result = await reconcile({ definition: forward, chunkSize: 50 });
    expect(result.tables.map((t) => [t.source, t.sourceRows, t.targetRows, t.missingCount, t.extraCount, t.differentCount])).toEqual([
      ['users', 201, 201, 0, 0, 0],
      ['orders', 102, 102, 0, 0, 0],
    ]);
    expect(result.clean).toBe(true);
  });
});
