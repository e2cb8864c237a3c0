import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { uniqueEmail } from '../../test/contract/target';
import { eventually } from '../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../test/harness/kafka';
import { tapTopic, type KafkaTap } from '../orders/__tests__/kafka-tap';
import { rowCounts, startShop, type Shop } from './shop';

const ITEMS = [{ sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 }];

describeWithKafka('extracted services: outbox → Kafka → notifications against the real broker', () => {
  let shop: Shop;
  let tap: KafkaTap;
  beforeAll(async () => {
    // One partition: a notification for a later event proves every earlier event was handled.
    shop = await startShop({ partitions: 1 });
    tap = await tapTopic(testKafkaBrokers(), shop.orders.topic, 1);
  });
  afterAll(async () => {
    await tap?.stop();
    await shop?.stop();
  });

  const newUser = async () => (await request(shop.users.server.url).post('/api/users').send({ email: uniqueEmail('outbox'), name: 'Outbox' })).body as { id: number };
  const place = async (userId: number) => {
    const res = await request(shop.orders.server.url).post('/api/orders').send({ userId, items: ITEMS });
    expect(res.status).toBe(201);
    return res.body as { id: number };
  };
  const notified = async (userId: number) => {
    const res = await request(shop.notifications.server.url).get('/api/notifications').query({ userId });
    return (res.body.items as { kind: string; status: string; payload: { orderId: number } }[]).map((n) => [n.kind, n.payload.orderId, n.status]);
  };
  const outboxRow = async (orderId: number) => {
    const [rows] = await shop.orders.sequelize.query('SELECT event_id, published_at FROM outbox WHERE key = :key ORDER BY id LIMIT 1', {
      replacements: { key: String(orderId) },
    });
    return rows[0] as { event_id: string; published_at: Date | null };
  };
  /** Starts a relay that dies at `where` on its first pass, and waits until it has. */
  const crashingRelay = async (where: 'afterClaim' | 'afterPublish') => {
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    await shop.orders.startRelay({
      faults: {
        [where]: () => {
          crashed();
          throw new Error(`relay killed (${where})`);
        },
      },
    });
    await crash;
    await shop.orders.stopRelay();
  };
  /** Cancels the order and waits for that notification: same key, same partition, so earlier events are done. */
  const cancelAndSettle = async (userId: number, orderId: number) => {
    expect((await request(shop.orders.server.url).post(`/api/orders/${orderId}/cancel`)).status).toBe(200);
    await eventually(async () => expect((await notified(userId)).map(([kind]) => kind)).toContain('order_cancelled'), 15_000);
  };

  it('a relay killed between commit and publish: nothing is lost, the notification appears exactly once', async () => {
    await shop.orders.stopRelay();
    const user = await newUser();
    const order = await place(user.id);
    await crashingRelay('afterClaim');
    expect((await outboxRow(order.id)).published_at).toBeNull();
    expect(tap.withEventId((await outboxRow(order.id)).event_id)).toEqual([]);

    await shop.orders.startRelay();
    await eventually(async () => expect(await notified(user.id)).toEqual([['order_paid', order.id, 'sent']]), 15_000);
    // Marked after Kafka acknowledged; the notification may be faster than the relay's commit.
    await eventually(async () => expect((await outboxRow(order.id)).published_at).not.toBeNull());

    await cancelAndSettle(user.id, order.id);
    expect(tap.withEventId((await outboxRow(order.id)).event_id)).toHaveLength(1);
    expect((await notified(user.id)).map(([kind]) => kind)).toEqual(['order_paid', 'order_cancelled']);
  });

  it('a relay killed after publishing but before marking: the event goes out twice, the notification exists once', async () => {
    await shop.orders.stopRelay();
    const user = await newUser();
    const order = await place(user.id);
    await crashingRelay('afterPublish');
    const { event_id: eventId, published_at } = await outboxRow(order.id);
    expect(published_at).toBeNull();

    await shop.orders.startRelay();
    await eventually(() => expect(tap.withEventId(eventId)).toHaveLength(2), 15_000);
    await cancelAndSettle(user.id, order.id);
    expect((await notified(user.id)).map(([kind, orderId]) => [kind, orderId])).toEqual([
      ['order_paid', order.id],
      ['order_cancelled', order.id],
    ]);
  });

  it('a consumer restarted in a fresh group re-reads every event from the beginning and creates no duplicate', async () => {
    const user = await newUser();
    await place(user.id);
    await eventually(async () => expect(await notified(user.id)).toHaveLength(1), 15_000);
    const before = await rowCounts(shop);
    expect(tap.messages.length).toBeGreaterThan(before.notifications);

    await shop.notifications.startConsumer({ groupId: `notifications-replay-${randomBytes(4).toString('hex')}` });
    const marker = await newUser();
    const markerOrder = await place(marker.id);
    await eventually(async () => expect(await notified(marker.id)).toEqual([['order_paid', markerOrder.id, 'sent']]), 15_000);
    expect((await rowCounts(shop)).notifications).toBe(before.notifications + 1);
    expect(await notified(user.id)).toHaveLength(1);
  });
});
