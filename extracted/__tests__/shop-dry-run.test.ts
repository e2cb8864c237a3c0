import request from 'supertest';
import { signedDryRun } from '../../test/harness/internal';
import { uniqueEmail } from '../../test/contract/target';
import { eventually } from '../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../test/harness/kafka';
import { tapTopic, type KafkaTap } from '../orders/__tests__/kafka-tap';
import { rowCounts, startShop, type Shop } from './shop';

const shadow = signedDryRun();
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ITEMS = [{ sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 }];

describeWithKafka('extracted services: a dry run of every orders write answers for real and leaves nothing anywhere', () => {
  let shop: Shop;
  let tap: KafkaTap;
  beforeAll(async () => {
    // One partition: once a later event is on the topic, everything published before it is there too.
    shop = await startShop({ partitions: 1 });
    tap = await tapTopic(testKafkaBrokers(), shop.orders.topic, 1);
  });
  afterAll(async () => {
    await tap?.stop();
    await shop?.stop();
  });

  const orders = () => request(shop.orders.server.url);
  const newUser = async () => (await request(shop.users.server.url).post('/api/users').send({ email: uniqueEmail('dry'), name: 'Dry Run' })).body as { id: number };
  const place = async (userId: number, items = ITEMS) => {
    const res = await orders().post('/api/orders').send({ userId, items });
    expect(res.status).toBe(201);
    return res.body as { id: number; status: string };
  };
  const eventTypes = (orderId: number) => tap.messages.filter((m) => m.key === String(orderId)).map((m) => m.headers['event-type']);

  it('POST /api/orders and POST /api/orders/:id/cancel: no order, outbox row, payment, Kafka message or notification', async () => {
    const user = await newUser();
    const real = await place(user.id);
    await eventually(() => expect(eventTypes(real.id)).toEqual(['order.paid']));
    await eventually(async () => expect((await rowCounts(shop)).notifications).toBe(1));
    const before = await rowCounts(shop);

    const dry = await orders().post('/api/orders').set(shadow).send({ userId: user.id, items: ITEMS });
    expect(dry.status).toBe(201);
    expect(dry.body).toEqual({ id: expect.any(Number), userId: user.id, status: 'paid', totalCents: 2500, currency: 'USD', items: ITEMS, createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });
    const dryDeclined = await orders().post('/api/orders').set(shadow).send({ userId: user.id, items: [{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 100_001 }] });
    expect(dryDeclined.status).toBe(201);
    expect(dryDeclined.body.status).toBe('payment_declined');
    const dryCancel = await orders().post(`/api/orders/${real.id}/cancel`).set(shadow);
    expect(dryCancel.status).toBe(200);
    expect(dryCancel.body).toMatchObject({ id: real.id, status: 'cancelled' });
    // Errors are the real ones too.
    expect((await orders().post('/api/orders').set(shadow).send({ userId: 999_999_999, items: ITEMS })).body.error.code).toBe('unknown_user');
    expect((await orders().post(`/api/orders/${dryDeclined.body.id}/cancel`).set(shadow)).body.error.code).toBe('not_found');

    expect(await rowCounts(shop)).toEqual(before);
    expect((await orders().get(`/api/orders/${dry.body.id}`)).status).toBe(404);
    expect((await orders().get(`/api/orders/${real.id}`)).body.status).toBe('paid');
    expect((await request(shop.payments.server.url).get('/api/payments').query({ orderId: dry.body.id })).body).toEqual({ items: [] });
    expect((await request(shop.payments.server.url).get('/api/payments').query({ orderId: real.id })).body.items).toEqual([
      expect.objectContaining({ status: 'captured' }),
    ]);

    // The real cancel afterwards still works: the dry run used nothing up.
    expect((await orders().post(`/api/orders/${real.id}/cancel`)).body.status).toBe('cancelled');
    // The relay publishes in outbox order: had a dry run left an event, it would be on the topic before these.
    await eventually(() => expect(eventTypes(real.id)).toEqual(['order.paid', 'order.cancelled']));
    const marker = await place(user.id);
    await eventually(() => expect(eventTypes(marker.id)).toEqual(['order.paid']));
    expect(eventTypes(dry.body.id)).toEqual([]);
    expect(eventTypes(dryDeclined.body.id)).toEqual([]);
    await eventually(async () => {
      const res = await request(shop.notifications.server.url).get('/api/notifications').query({ userId: user.id });
      expect(res.body.items.map((n: { kind: string; payload: { orderId: number } }) => [n.kind, n.payload.orderId])).toEqual([
        ['order_paid', real.id],
        ['order_cancelled', real.id],
        ['order_paid', marker.id],
      ]);
    });
  });

  it('a dry-run order does not depend on extraction: its id is none that payments already has a payment for', async () => {
    // Before extraction the orders sequence still counts from the monolith's range, whose orders' payments the
    // payments service already holds (copied over, or made by the monolith): put them in its way.
    const [[seq]] = (await shop.orders.sequelize.query('SELECT last_value::int AS last, is_called FROM orders_id_seq')) as [{ last: number; is_called: boolean }[], unknown];
    const next = seq.is_called ? seq.last + 1 : seq.last;
    await shop.payments.sequelize.query(
      "INSERT INTO payments (order_id, amount_cents, status, created_at, updated_at) SELECT g, 100, 'captured', now(), now() FROM generate_series(:from::int, :to::int) g",
      { replacements: { from: next, to: next + 20 } },
    );
    const user = await newUser();
    const before = await rowCounts(shop);
    const dry = await orders().post('/api/orders').set(shadow).send({ userId: user.id, items: ITEMS });
    expect({ status: dry.status, orderStatus: dry.body.status, error: dry.body.error }).toEqual({ status: 201, orderStatus: 'paid', error: undefined });
    expect(dry.body.id).not.toBeLessThan(next + 21);
    expect(await rowCounts(shop)).toEqual(before);
    expect((await orders().get(`/api/orders/${dry.body.id}`)).status).toBe(404);
  });
});
