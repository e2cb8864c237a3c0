import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import type { Row } from '../../events/envelope';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { CdcSink } from '../cdc-sink';
import { createShop, iso, messagesFor, produce, query, type Produced, type Shop } from './fixtures';

/** A service `orders` row as Debezium sends it: jsonb as JSON text, timestamptz as ISO-8601, bigint as a number. */
function serviceOrder(id: number, userId: number, skus: string[], status = 'paid'): Row {
  const items = skus.map((sku, i) => ({ sku, quantity: i + 1, unitPriceCents: 100 * (i + 1) }));
  const ts = iso(Date.parse('2024-03-01T12:00:00Z'));
  return { id, user_id: userId, status, total_cents: 1234, currency: 'USD', items: JSON.stringify(items), created_at: ts, updated_at: ts };
}

function serviceUser(id: number, fullName: string, extra: Row = {}): Row {
  const ts = iso(Date.parse('2024-03-01T11:00:00Z'));
  return { id, email: `svc${id}@example.com`, full_name: fullName, created_at: ts, updated_at: ts, ...extra };
}

describeWithKafka('CDC sink, service → monolith', () => {
  let shop: Shop;
  let messaging: Messaging;
  let sink: CdcSink;
  const logger = createLogger('sink-test', 'silent');

  beforeAll(async () => {
    shop = await createShop();
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'sink-reverse-test', logger });
    sink = new CdcSink({ definition: shop.reverse, brokers: testKafkaBrokers(), logger });
    await sink.start();
  });
  afterAll(async () => {
    await sink.stop();
    await messaging.disconnect();
    await shop.drop();
  });

  const r = (table: string) => ({ definition: shop.reverse, table });
  const send = (...produced: Produced[][]) => produce(messaging, produced.flat());
  const itemRows = (orderId: number) =>
    query(shop.monolith.url, 'SELECT id, position, sku, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY position', [orderId]);

  it("applies a user's order before the user without a foreign-key failure", async () => {
    await send(messagesFor({ ...r('orders'), op: 'c', after: serviceOrder(1_000_000_001, 1_000_000_001, ['A', 'B']) }, { id: 1_000_000_001 }));
    await eventually(async () => expect(await itemRows(1_000_000_001)).toHaveLength(2), 20_000);
    expect(await query(shop.monolith.url, 'SELECT id FROM users')).toEqual([]);

    // A service-only column (not in the monolith) is left behind; full_name goes back to name.
    await query(shop.service.url, 'ALTER TABLE users ADD COLUMN nickname text');
    await send(messagesFor({ ...r('users'), op: 'c', after: serviceUser(1_000_000_001, 'Edsger Dijkstra', { nickname: 'EWD' }) }, { id: 1_000_000_001 }));
    await eventually(async () =>
      expect(await query(shop.monolith.url, 'SELECT u.name, o.status, o.total_cents FROM orders o JOIN users u ON u.id = o.user_id')).toEqual([
        { name: 'Edsger Dijkstra', status: 'paid', total_cents: '1234' },
      ]),
    );
    expect(await itemRows(1_000_000_001)).toEqual([
      { id: expect.any(Number), position: 0, sku: 'A', quantity: 1, unit_price_cents: '100' },
      { id: expect.any(Number), position: 1, sku: 'B', quantity: 2, unit_price_cents: '200' },
    ]);
    const [order] = await query(shop.monolith.url, 'SELECT created_at FROM orders');
    expect(order.created_at).toEqual(new Date('2024-03-01T12:00:00Z'));
  });

  it('rewrites order_items from the items array, keeping the ids of the positions that stay', async () => {
    const id = 1_000_000_002;
    await send(messagesFor({ ...r('orders'), op: 'c', after: serviceOrder(id, 1_000_000_001, ['A', 'B', 'C']) }, { id }));
    await eventually(async () => expect(await itemRows(id)).toHaveLength(3), 20_000);
    const first = await itemRows(id);

    await send(messagesFor({ ...r('orders'), op: 'u', before: serviceOrder(id, 1_000_000_001, ['A', 'B', 'C']), after: serviceOrder(id, 1_000_000_001, ['A', 'B2']) }, { id }));
    await eventually(async () => expect((await itemRows(id)).map((i) => i.sku)).toEqual(['A', 'B2']));
    const second = await itemRows(id);
    expect(second.map((i) => i.id)).toEqual([first[0].id, first[1].id]);

    await send(messagesFor({ ...r('orders'), op: 'u', before: serviceOrder(id, 1_000_000_001, ['A', 'B2']), after: serviceOrder(id, 1_000_000_001, ['A', 'B2', 'D', 'E']) }, { id }));
    await eventually(async () => expect((await itemRows(id)).map((i) => i.sku)).toEqual(['A', 'B2', 'D', 'E']));
    const third = await itemRows(id);
    expect(third.slice(0, 2).map((i) => i.id)).toEqual(second.map((i) => i.id));
    expect(new Set(third.map((i) => i.id)).size).toBe(4);

    // A status change with the same items leaves the item rows alone.
    await send(
      messagesFor(
        { ...r('orders'), op: 'u', before: serviceOrder(id, 1_000_000_001, ['A', 'B2', 'D', 'E']), after: serviceOrder(id, 1_000_000_001, ['A', 'B2', 'D', 'E'], 'cancelled') },
        { id },
      ),
    );
    await eventually(async () => expect(await query(shop.monolith.url, 'SELECT status FROM orders WHERE id = $1', [id])).toEqual([{ status: 'cancelled' }]));
    expect(await itemRows(id)).toEqual(third);
  });

  it("leaves the service's snapshot reads out: the monolith already has those rows, maybe newer", async () => {
    const applied = sink.status().applied;
    await query(shop.monolith.url, "UPDATE users SET name = 'Newer In Monolith' WHERE id = 1000000001");
    await send(
      messagesFor({ ...r('users'), op: 'r', after: serviceUser(1_000_000_001, 'Edsger Dijkstra') }, { id: 1_000_000_001 }),
      // Committed in the service after the monolith's own write, so it wins that row.
      messagesFor({ ...r('users'), op: 'u', after: serviceUser(1_000_000_001, 'Changed In Service'), tsMs: Date.now() + 1_000 }, { id: 1_000_000_001 }),
    );
    await eventually(async () => expect(await query(shop.monolith.url, 'SELECT name FROM users WHERE id = 1000000001')).toEqual([{ name: 'Changed In Service' }]), 20_000);
    expect(sink.status().applied).toBe(applied + 1);
  });

  it('deletes an order together with its item rows (no cascade trigger fires in replica mode)', async () => {
    const id = 1_000_000_002;
    await send(messagesFor({ ...r('orders'), op: 'd', before: serviceOrder(id, 1_000_000_001, ['A', 'B2', 'D', 'E'], 'cancelled') }, { id }));
    await eventually(async () => expect(await query(shop.monolith.url, 'SELECT id FROM orders WHERE id = $1', [id])).toEqual([]), 20_000);
    expect(await itemRows(id)).toEqual([]);
    expect(sink.status()).toMatchObject({ state: 'streaming', conflicts: 0, deadLetters: 0 });
  });
});
