import request from 'supertest';
import { startTestPaymentsService, type TestPaymentsService } from '../testing';
import { capture, countRows, expectError, newOrderId } from './helpers';

describe('payments service: Idempotency-Key on POST /internal/payments', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('a retry with the same key and body is 200 with the same payment and creates nothing', async () => {
    const body = { orderId: newOrderId(), amountCents: 1234 };
    const first = await capture(s, body, { key: 'order-1-capture' });
    expect(first.status).toBe(201);
    const before = await countRows(s);
    const retry = await capture(s, body, { key: 'order-1-capture' });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await countRows(s)).toEqual(before);
  });

  it('a retry replays a decline too: the first answer stands', async () => {
    const body = { orderId: newOrderId(), amountCents: 150_000 };
    const first = await capture(s, body, { key: 'declined-once' });
    const retry = await capture(s, body, { key: 'declined-once' });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.body.status).toBe('declined');
  });

  it('the default limit sent explicitly is the same request as the limit omitted', async () => {
    const orderId = newOrderId();
    const first = await capture(s, { orderId, amountCents: 10 }, { key: 'explicit-default' });
    const retry = await capture(s, { orderId, amountCents: 10, limitCents: 100_000 }, { key: 'explicit-default' });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
  });

  it('the same key with a different body is 422 idempotency_key_reused and changes nothing', async () => {
    const orderId = newOrderId();
    const first = await capture(s, { orderId, amountCents: 500 }, { key: 'reused-key' });
    const before = await countRows(s);
    expectError(await capture(s, { orderId, amountCents: 501 }, { key: 'reused-key' }), 422, 'idempotency_key_reused');
    expectError(await capture(s, { orderId: newOrderId(), amountCents: 500 }, { key: 'reused-key' }), 422, 'idempotency_key_reused');
    expect(await countRows(s)).toEqual(before);
    expect((await request(s.server.url).get(`/api/payments/${first.body.id}`)).body).toEqual(first.body);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['longer than 255 characters', 'k'.repeat(256)],
    ['containing spaces', 'a key'],
  ])('a %s Idempotency-Key is 400 validation_failed and stores nothing', async (_what, key) => {
    const before = await countRows(s);
    const res = await capture(s, { orderId: newOrderId(), amountCents: 1 }, { key });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'idempotency-key' })]);
    expect(await countRows(s)).toEqual(before);
  });

  it('10 concurrent requests with one key make exactly one payment; all answer with it', async () => {
    const orderId = newOrderId();
    const before = await countRows(s);
    const results = await Promise.all(Array.from({ length: 10 }, () => capture(s, { orderId, amountCents: 4200 }, { key: 'concurrent-key' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await countRows(s)).toEqual({ payments: before.payments + 1, keys: before.keys + 1 });
    const list = await request(s.server.url).get('/api/payments').query({ orderId });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].id).toBe(results[0].body.id);
  });

  it('10 concurrent requests for one order under different keys still make one payment', async () => {
    const orderId = newOrderId();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => capture(s, { orderId, amountCents: 99 }, { key: `racer-${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'payment_exists');
    const list = await request(s.server.url).get('/api/payments').query({ orderId });
    expect(list.body.items).toHaveLength(1);
  });
});
