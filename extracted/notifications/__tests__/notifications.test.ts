import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { createLogger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import type { Messaging, Message } from '../../../lib/messaging/types';
import { eventually } from '../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../test/harness/kafka';
import { loadConfig } from '../src/config';
import { startTestNotificationsService, type TestNotificationsService } from '../testing';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let nextOrderId = 5000;

function orderEvent(type: string, userId: number, overrides: Record<string, unknown> = {}) {
  const eventId = randomUUID();
  nextOrderId += 1;
  return { eventId, type, orderId: nextOrderId, userId, totalCents: 2500, currency: 'USD', occurredAt: new Date().toISOString(), ...overrides };
}

const message = (event: { eventId: unknown; type: unknown; orderId: unknown }): Message => ({
  key: String(event.orderId),
  value: JSON.stringify(event),
  headers: { 'event-id': String(event.eventId), 'event-type': String(event.type) },
});

describeWithKafka('notifications service: consumes order events', () => {
  // One partition: a later message on the topic is handled only after every earlier one, so a marker event proves
  // that everything before it was processed.
  const topic = `shop.orders.events.${randomBytes(4).toString('hex')}`;
  let s: TestNotificationsService;
  let kafka: Messaging;
  let userId = 100;

  beforeAll(async () => {
    kafka = createMessaging({ brokers: testKafkaBrokers(), clientId: 'notifications-test-producer', logger: createLogger('producer', 'silent') });
    s = await startTestNotificationsService({ kafkaBrokers: testKafkaBrokers(), topic, partitions: 1 });
  });
  afterAll(async () => {
    await kafka?.disconnect();
    await s?.stop();
  });

  const publish = (...messages: Message[]) => kafka.producer().send(topic, messages);
  const list = async (user: number) => {
    const res = await request(s.server.url).get('/api/notifications').query({ userId: user });
    expect(res.status).toBe(200);
    return res.body.items as { id: number; kind: string; payload: Record<string, unknown>; status: string }[];
  };
  const countAll = async () => {
    const [rows] = await s.sequelize.query('SELECT count(*)::int AS n FROM notifications');
    return (rows[0] as { n: number }).n;
  };
  /** Publishes a marker event for a fresh user and waits for its notification: everything before it is handled. */
  const drained = async () => {
    userId += 1;
    const marker = userId;
    await publish(message(orderEvent('order.paid', marker)));
    await eventually(async () => expect(await list(marker)).toHaveLength(1), 15_000);
  };

  it('turns each event type into the monolith\'s notification kind and payload; the dispatcher marks it sent', async () => {
    const user = (userId += 1);
    const paid = orderEvent('order.paid', user, { totalCents: 3399 });
    const declined = orderEvent('order.payment_declined', user, { totalCents: 150_000 });
    const cancelled = orderEvent('order.cancelled', user, { orderId: paid.orderId, totalCents: 3399 });
    await publish(message(paid), message(declined), message(cancelled));
    const items = await eventually(async () => {
      const got = await list(user);
      expect(got).toHaveLength(3);
      expect(got.every((n) => n.status === 'sent')).toBe(true);
      return got;
    }, 15_000);
    expect(items).toEqual([
      { id: expect.any(Number), userId: user, kind: 'order_paid', payload: { orderId: paid.orderId, totalCents: 3399, currency: 'USD' }, status: 'sent', createdAt: expect.stringMatching(ISO), sentAt: expect.stringMatching(ISO) },
      { id: expect.any(Number), userId: user, kind: 'payment_declined', payload: { orderId: declined.orderId, totalCents: 150_000, currency: 'USD' }, status: 'sent', createdAt: expect.stringMatching(ISO), sentAt: expect.stringMatching(ISO) },
      { id: expect.any(Number), userId: user, kind: 'order_cancelled', payload: { orderId: paid.orderId, totalCents: 3399, currency: 'USD' }, status: 'sent', createdAt: expect.stringMatching(ISO), sentAt: expect.stringMatching(ISO) },
    ]);
    expect(items.map((n) => n.id)).toEqual([...items.map((n) => n.id)].sort((a, b) => a - b));
  });

  it('an event delivered several times makes one notification', async () => {
    const user = (userId += 1);
    const paid = orderEvent('order.paid', user);
    await publish(message(paid), message(paid));
    await publish(message(paid));
    await drained();
    expect((await list(user)).map((n) => n.kind)).toEqual(['order_paid']);
  });

  it('poison messages are skipped without blocking the partition; events after them are handled', async () => {
    const user = (userId += 1);
    const before = await countAll();
    await publish(
      { key: '1', value: 'not json at all {', headers: { 'event-id': 'x' } },
      { key: '2', value: null },
      { key: '3', value: JSON.stringify({ eventId: 'not-a-uuid', type: 'order.paid', orderId: 1, userId: user, totalCents: 1, currency: 'USD' }) },
      { key: '4', value: JSON.stringify(orderEvent('order.paid', user, { userId: -5 })) },
      { key: '5', value: Buffer.from([0xff, 0xfe, 0x00]) },
      message(orderEvent('order.shipped', user)),
      message(orderEvent('order.paid', user)),
    );
    await eventually(async () => expect((await list(user)).map((n) => n.kind)).toEqual(['order_paid']), 15_000);
    expect(await countAll()).toBe(before + 1);
  });

  it('a consumer restarted in a fresh group re-reads the whole topic and creates no duplicate', async () => {
    await drained();
    const before = await countAll();
    await s.startConsumer({ groupId: `notifications-fresh-${randomBytes(4).toString('hex')}` });
    await drained();
    expect(await countAll()).toBe(before + 1);
  });

  it('a consumer restarted in the same group continues where it left off', async () => {
    const groupId = s.groupId;
    await s.stopConsumer();
    const user = (userId += 1);
    // Published while nobody consumes: the committed offset makes the next member pick it up.
    await publish(message(orderEvent('order.cancelled', user)));
    await s.startConsumer({ groupId });
    await eventually(async () => expect((await list(user)).map((n) => n.kind)).toEqual(['order_cancelled']), 15_000);
  });
});

describe('notifications service: HTTP and schema without Kafka traffic', () => {
  let s: TestNotificationsService;
  beforeAll(async () => {
    s = await startTestNotificationsService({ kafkaBrokers: '127.0.0.1:9', topic: 'unused', consume: false });
  });
  afterAll(() => s?.stop());

  it('validates userId like the monolith', async () => {
    for (const userId of ['', 'abc', '0', '-1', '1.5', '2147483648']) {
      const res = await request(s.server.url).get('/api/notifications').query({ userId });
      expect({ userId, status: res.status, code: res.body.error?.code }).toEqual({ userId, status: 400, code: 'validation_failed' });
    }
    expect((await request(s.server.url).get('/api/notifications')).status).toBe(400);
    expect((await request(s.server.url).get('/api/notifications').query({ userId: 7 })).body).toEqual({ items: [] });
  });

  it('every table has a primary key and event_id is unique', async () => {
    const [noPk] = await s.sequelize.query(`
      SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')`);
    expect(noPk).toEqual([]);
    const [columns] = await s.sequelize.query(
      "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'notifications' ORDER BY 1",
    );
    expect((columns as { name: string }[]).map((c) => c.name)).toEqual(['created_at', 'event_id', 'id', 'kind', 'payload', 'sent_at', 'status', 'user_id']);
    const [unique] = await s.sequelize.query(
      "SELECT 1 FROM pg_indexes WHERE tablename = 'notifications' AND indexdef LIKE 'CREATE UNIQUE INDEX%(event_id)%'",
    );
    expect(unique).toHaveLength(1);
  });

  it('configuration has the documented defaults and names bad variables', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/notifications' })).toEqual({
      PORT: 3104,
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/notifications',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      ORDERS_EVENTS_TOPIC: 'shop.orders.events',
      ORDERS_EVENTS_PARTITIONS: 3,
      NOTIFICATIONS_CONSUMER_GROUP: 'notifications',
      DISPATCH_INTERVAL_MS: 500,
      // Faults switch only on a stack started with `strangler up --workshop`.
      STRANGLER_WORKSHOP: '0',
    });
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x/y', KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig({})).toThrow(/DATABASE_URL/);
  });
});
