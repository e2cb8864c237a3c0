import request from 'supertest';
import { createLogger } from '../../../lib/logger';
import { eventually } from '../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../test/harness/kafka';
import { startOutboxRelay } from '../src/outbox/relay';
import { startTestOrdersService, type TestOrdersService } from '../testing';
import { json, tapTopic, type KafkaTap } from './kafka-tap';
import { paymentsAnswer, startStub, usersAnswer, type Stub } from './stubs';

const ITEMS = [{ sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 }];
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describeWithKafka('orders service: the outbox relay publishes to Kafka', () => {
  let s: TestOrdersService;
  let users: Stub;
  let payments: Stub;
  let tap: KafkaTap;
  beforeAll(async () => {
    users = await startStub(usersAnswer(new Set([1, 2])));
    payments = await startStub(paymentsAnswer());
    s = await startTestOrdersService({ users: { url: users.url }, payments: { url: payments.url }, kafkaBrokers: testKafkaBrokers() });
    tap = await tapTopic(testKafkaBrokers(), s.topic);
  });
  afterAll(async () => {
    await tap?.stop();
    await s?.stop();
    await Promise.all([users?.close(), payments?.close()]);
  });

  const place = async (items = ITEMS, headers: Record<string, string> = {}) => {
    const res = await request(s.server.url).post('/api/orders').set(headers).send({ userId: 1, items });
    expect(res.status).toBe(201);
    return res.body as { id: number; status: string };
  };

  const eventIdsOf = async (orderId: number) => {
    const [rows] = await s.sequelize.query('SELECT event_id FROM outbox WHERE key = :key ORDER BY id', { replacements: { key: String(orderId) } });
    return (rows as { event_id: string }[]).map((r) => r.event_id);
  };

  const unpublished = async () => {
    const [rows] = await s.sequelize.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
    return (rows[0] as { n: number }).n;
  };

  it('publishes each committed event keyed by order id, with event-id, event-type and traceparent headers, then marks it published', async () => {
    const paid = await place(ITEMS, { traceparent: TRACEPARENT });
    expect((await request(s.server.url).post(`/api/orders/${paid.id}/cancel`)).status).toBe(200);
    const declined = await place([{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 500_000 }]);

    const [paidEvent, cancelledEvent] = await eventIdsOf(paid.id);
    const [declinedEvent] = await eventIdsOf(declined.id);
    await eventually(() => expect(tap.messages.length).toBeGreaterThanOrEqual(3));
    const [m] = tap.withEventId(paidEvent);
    expect(m.key).toBe(String(paid.id));
    expect(m.headers).toEqual({ 'event-id': paidEvent, 'event-type': 'order.paid', traceparent: TRACEPARENT, 'content-type': 'application/json' });
    expect(json(m)).toEqual({ eventId: paidEvent, type: 'order.paid', orderId: paid.id, userId: 1, totalCents: 2500, currency: 'USD', occurredAt: expect.any(String) });

    // One order's events share a partition, in the order they happened.
    const ofPaid = tap.messages.filter((x) => x.key === String(paid.id));
    expect(ofPaid.map((x) => x.headers['event-type'])).toEqual(['order.paid', 'order.cancelled']);
    expect(ofPaid.map((x) => x.headers['event-id'])).toEqual([paidEvent, cancelledEvent]);
    expect(new Set(ofPaid.map((x) => x.partition)).size).toBe(1);
    expect(tap.withEventId(declinedEvent).map((x) => [x.key, x.headers['event-type']])).toEqual([[String(declined.id), 'order.payment_declined']]);

    await eventually(async () => expect(await unpublished()).toBe(0));
  });

  it('a relay killed after claiming rows publishes nothing; a fresh relay publishes them exactly once', async () => {
    await s.stopRelay();
    const order = await place();
    const [eventId] = await eventIdsOf(order.id);

    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    await s.startRelay({
      faults: {
        afterClaim: () => {
          crashed();
          throw new Error('relay killed');
        },
      },
    });
    await crash;
    await s.stopRelay();
    expect(await unpublished()).toBe(1);

    await s.startRelay();
    await eventually(async () => expect(await unpublished()).toBe(0));
    await eventually(() => expect(tap.withEventId(eventId)).toHaveLength(1));
  });

  it('a relay killed after publishing but before marking: the fresh relay publishes again (a duplicate with the same event id)', async () => {
    await s.stopRelay();
    const order = await place();
    const [eventId] = await eventIdsOf(order.id);

    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    await s.startRelay({
      faults: {
        afterPublish: () => {
          crashed();
          throw new Error('relay killed before marking');
        },
      },
    });
    await crash;
    await s.stopRelay();
    expect(await unpublished()).toBe(1);

    await s.startRelay();
    await eventually(async () => expect(await unpublished()).toBe(0));
    await eventually(() => expect(tap.withEventId(eventId).length).toBeGreaterThanOrEqual(2));
    const copies = tap.withEventId(eventId);
    expect(new Set(copies.map((c) => c.value?.toString())).size).toBe(1);
  });

  it('two relays at once never publish one row twice (SKIP LOCKED)', async () => {
    await s.stopRelay();
    const orders = [];
    for (let i = 0; i < 20; i++) orders.push(await place());
    const eventIds = (await Promise.all(orders.map((o) => eventIdsOf(o.id)))).flat();
    const relays = [0, 1].map(() =>
      startOutboxRelay({
        sequelize: s.sequelize,
        producer: s.messaging!.producer({ idempotent: true }),
        logger: createLogger('relay', 'silent'),
        intervalMs: 10,
        batchSize: 3,
      }),
    );
    try {
      await eventually(async () => expect(await unpublished()).toBe(0));
      await eventually(() => {
        for (const id of eventIds) expect(tap.withEventId(id)).toHaveLength(1);
      });
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
    await s.startRelay();
  });
});
