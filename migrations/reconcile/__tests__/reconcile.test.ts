import { Client } from 'pg';
import { createShop, query, type Shop } from '../../cdc/sink/__tests__/fixtures';
import { ReconcileError } from '../errors';
import { reconcile, type ReconcileProgress, type TableReconciliation } from '../reconcile';

const USERS = 500;
const ORDERS = 300;

/** Copies the monolith's rows into the service through the mapping, as a finished forward pipeline would. */
async function copyToService(shop: Shop): Promise<void> {
  // Timestamps as text: a JS Date would cut the microseconds, a difference reconcile rightly reports.
  const users = await query(shop.monolith.url, 'SELECT id, email, name, created_at::text, updated_at::text FROM users ORDER BY id');
  const orders = await query(
    shop.monolith.url,
    `SELECT o.id, o.user_id, o.status, o.total_cents, o.currency, o.created_at::text, o.updated_at::text,
            COALESCE((SELECT jsonb_agg(jsonb_build_object('sku', i.sku, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) ORDER BY i.position)
                        FROM order_items i WHERE i.order_id = o.id), '[]') AS items
       FROM orders o ORDER BY o.id`,
  );
  const client = new Client({ connectionString: shop.service.url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO users (id, email, full_name, created_at, updated_at)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])`,
      [users.map((u) => u.id), users.map((u) => u.email), users.map((u) => u.name), users.map((u) => u.created_at), users.map((u) => u.updated_at)],
    );
    await client.query(
      `INSERT INTO orders (id, user_id, status, total_cents, currency, created_at, updated_at, items)
       SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[])`,
      [
        orders.map((o) => o.id),
        orders.map((o) => o.user_id),
        orders.map((o) => o.status),
        orders.map((o) => o.total_cents),
        orders.map((o) => o.currency),
        orders.map((o) => o.created_at),
        orders.map((o) => o.updated_at),
        orders.map((o) => JSON.stringify(o.items)),
      ],
    );
  } finally {
    await client.end();
  }
}

describe('reconcile', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await createShop();
    await query(
      shop.monolith.url,
      `INSERT INTO users (id, email, name) SELECT g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, ${USERS}) g;
       INSERT INTO orders (id, user_id, status, total_cents) SELECT g, g, 'paid', g * 100 FROM generate_series(1, ${ORDERS}) g;
       INSERT INTO order_items (order_id, position, sku, quantity, unit_price_cents)
         SELECT o, p, 'SKU-' || o || '-' || p, p + 1, 50 * (p + 1) FROM generate_series(1, ${ORDERS}) o, generate_series(0, 2) p;`,
    );
    await copyToService(shop);
  });
  afterAll(async () => {
    await shop.drop();
  });

  const table = (tables: TableReconciliation[], name: string) => tables.find((t) => t.target === name)!;

  it('finds equal sides clean, comparing users through name → full_name and order_items through orders.items', async () => {
    const progress: ReconcileProgress[] = [];
    const result = await reconcile({ definition: shop.forward, chunkSize: 100, onProgress: (p) => progress.push(p) });
    expect(result.clean).toBe(true);
    expect(result.context).toMatchObject({ pipeline: shop.forward.name, direction: 'forward', source: shop.monolith.name, target: shop.service.name, chunkSize: 100 });
    expect(result.tables.map((t) => [t.source, t.target, t.embedded, t.sourceRows, t.targetRows, t.chunks, t.differingChunks])).toEqual([
      ['users', 'users', [], USERS, USERS, 5, 0],
      ['orders', 'orders', ['order_items'], ORDERS, ORDERS, 3, 0],
    ]);
    expect(progress.at(-1)).toEqual({ table: 'orders', tableIndex: 1, tableCount: 2, chunksDone: 3, chunksTotal: 3 });
    expect(progress.filter((p) => p.table === 'users').map((p) => p.chunksDone)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('finds a planted row, a deleted row, a changed name and a changed item, drilling only into their chunks', async () => {
    await query(shop.service.url, "INSERT INTO users (id, email, full_name) VALUES (250000, 'planted@example.com', 'Planted Behind The Back')");
    await query(shop.service.url, 'DELETE FROM users WHERE id = 42');
    await query(shop.monolith.url, "UPDATE users SET name = 'Renamed In Monolith' WHERE id = 250");
    await query(shop.service.url, `UPDATE orders SET items = jsonb_set(items, '{1,quantity}', '99') WHERE id = 7`);
    await query(shop.monolith.url, `UPDATE order_items SET sku = 'CHANGED' WHERE order_id = 280 AND position = 2`);
    await query(shop.monolith.url, `UPDATE orders SET status = 'cancelled' WHERE id = 281`);

    const result = await reconcile({ definition: shop.forward, chunkSize: 100 });
    expect(result.clean).toBe(false);
    const users = table(result.tables, 'users');
    expect(users).toMatchObject({
      sourceRows: USERS,
      targetRows: USERS,
      missing: [{ id: 42 }],
      extra: [{ id: 250000 }],
      different: [{ key: { id: 250 }, columns: ['full_name'] }],
      missingCount: 1,
      extraCount: 1,
      differentCount: 1,
      differingChunks: 3,
    });
    const orders = table(result.tables, 'orders');
    expect(orders).toMatchObject({
      missing: [],
      extra: [],
      different: [
        { key: { id: 7 }, columns: ['items'] },
        { key: { id: 280 }, columns: ['items'] },
        { key: { id: 281 }, columns: ['status'] },
      ],
      differingChunks: 2,
    });

    // The same pipeline's reverse view: the service is the source, so missing and extra swap.
    const reverse = await reconcile({ definition: shop.reverse, chunkSize: 100, tables: ['users'] });
    expect(reverse.context.direction).toBe('reverse');
    expect(reverse.tables[0]).toMatchObject({ missing: [{ id: 250000 }], extra: [{ id: 42 }], different: [{ key: { id: 250 }, columns: ['full_name'] }] });
  });

  it('counts every difference but lists only the first N, also when one chunk holds many extra rows', async () => {
    await query(
      shop.service.url,
      "INSERT INTO users (id, email, full_name) SELECT g, 'bulk' || g || '@example.com', 'Bulk' FROM generate_series(300000, 300349) g",
    );
    const result = await reconcile({
      monolithUrl: shop.monolith.url,
      serviceUrl: shop.service.url,
      mapping: shop.forward.mapping,
      chunkSize: 100,
      limit: 5,
      tables: ['users'],
    });
    const [users] = result.tables;
    expect(users.extraCount).toBe(351);
    expect(users.extra).toEqual([{ id: 250000 }, { id: 300000 }, { id: 300001 }, { id: 300002 }, { id: 300003 }]);
    expect(users.targetRows).toBe(USERS + 350);
    expect(result.context.pipeline).toBeNull();
  });

  it('with re-checks, counts only what outlives the pipelines catching up: the rest was in flight', async () => {
    // Writes the pipeline has not applied yet: ten new users and a status change.
    await query(shop.monolith.url, "INSERT INTO users (id, email, name) SELECT g, 'late' || g || '@example.com', 'Late ' || g FROM generate_series(501, 510) g");
    let settled = 0;
    const settle = async () => {
      settled++;
      if (settled > 1) return;
      const late = await query(shop.monolith.url, 'SELECT id, email, name, created_at::text, updated_at::text FROM users WHERE id > 500 AND id < 1000 ORDER BY id');
      for (const u of late) {
        await query(shop.service.url, 'INSERT INTO users (id, email, full_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)', [u.id, u.email, u.name, u.created_at, u.updated_at]);
      }
      const [o] = await query(shop.monolith.url, 'SELECT status, updated_at::text FROM orders WHERE id = 281');
      await query(shop.service.url, 'UPDATE orders SET status = $1, updated_at = $2 WHERE id = 281', [o.status, o.updated_at]);
    };
    const result = await reconcile({ definition: shop.forward, chunkSize: 100, recheck: { rounds: 2, settle } });
    expect(settled).toBe(2);
    expect(result.context.recheckRounds).toBe(2);
    expect(result.clean).toBe(false);
    // What the earlier tests planted behind the pipeline's back stays; the late writes are counted as in flight.
    expect(table(result.tables, 'users')).toMatchObject({ missing: [{ id: 42 }], missingCount: 1, extraCount: 351, differentCount: 1, inFlight: 10 });
    expect(table(result.tables, 'orders')).toMatchObject({ different: [{ key: { id: 7 } }, { key: { id: 280 } }], differentCount: 2, inFlight: 1 });

    // Only changes in flight: clean after one re-check, although the row counts differed during the full pass.
    await query(shop.service.url, `UPDATE orders SET items = jsonb_set(items, '{1,quantity}', '2') WHERE id = 7`);
    await query(shop.monolith.url, `UPDATE order_items SET sku = 'SKU-280-2' WHERE order_id = 280 AND position = 2`);
    await query(shop.monolith.url, "INSERT INTO orders (id, user_id, status, total_cents) VALUES (301, 1, 'paid', 100)");
    const copyOrder = async () => {
      const [o] = await query(shop.monolith.url, 'SELECT id, user_id, status, total_cents, currency, created_at::text, updated_at::text FROM orders WHERE id = 301');
      await query(shop.service.url, "INSERT INTO orders (id, user_id, status, total_cents, currency, created_at, updated_at, items) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]')", [
        o.id, o.user_id, o.status, o.total_cents, o.currency, o.created_at, o.updated_at,
      ]);
    };
    const live = await reconcile({ definition: shop.forward, tables: ['orders'], recheck: { rounds: 3, settle: copyOrder } });
    // The counts are taken again once the re-checks settle: the order in flight is counted on both sides.
    expect(live.tables[0]).toMatchObject({ sourceRows: ORDERS + 1, targetRows: ORDERS + 1, missingCount: 0, differentCount: 0, inFlight: 1 });
    expect(live.context.recheckRounds).toBe(1);
    expect(live.clean).toBe(true);
    // Without re-checks the same data is clean too (nothing is in flight any more), and a single pass is all it runs.
    const settledPass = await reconcile({ definition: shop.forward, tables: ['orders'] });
    expect(settledPass).toMatchObject({ clean: true, context: { recheckRounds: 0 } });
    expect(settledPass.tables[0].inFlight).toBeUndefined();
  });

  it('rejects options it cannot run with', async () => {
    await expect(reconcile({ monolithUrl: shop.monolith.url })).rejects.toThrow(ReconcileError);
    await expect(reconcile({ definition: shop.forward, tables: ['payments'] })).rejects.toThrow(/maps nothing to service table payments/);
    await expect(reconcile({ definition: shop.forward, chunkSize: 0 })).rejects.toThrow(/chunkSize/);
  });
});
