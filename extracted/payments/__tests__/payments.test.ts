import request from 'supertest';
import { startTestPaymentsService, type TestPaymentsService } from '../testing';
import { signedCall } from '../../../test/harness/internal';
import { capture, countRows, expectError, ISO, newOrderId } from './helpers';

describe('payments service: public routes (the monolith contract) over rows made by the internal route', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('GET /health answers ok', async () => {
    const res = await request(s.server.url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /api/payments?orderId= and /api/payments/:id show the captured or declined payment', async () => {
    const paid = newOrderId();
    const declined = newOrderId();
    expect((await capture(s, { orderId: paid, amountCents: 1000 })).status).toBe(201);
    expect((await capture(s, { orderId: declined, amountCents: 150_000 })).status).toBe(201);

    const list = await request(s.server.url).get('/api/payments').query({ orderId: paid });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      items: [{ id: expect.any(Number), orderId: paid, amountCents: 1000, status: 'captured', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) }],
    });
    const one = await request(s.server.url).get(`/api/payments/${list.body.items[0].id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list.body.items[0]);
    const d = await request(s.server.url).get('/api/payments').query({ orderId: declined });
    expect(d.body.items).toEqual([expect.objectContaining({ orderId: declined, amountCents: 150_000, status: 'declined' })]);
  });

  it('unknown payments are 404 and a missing or bad orderId is 400', async () => {
    expectError(await request(s.server.url).get('/api/payments/999999999'), 404, 'not_found');
    expectError(await request(s.server.url).get('/api/payments/abc'), 404, 'not_found');
    expectError(await request(s.server.url).get('/api/payments/1.5'), 404, 'not_found');
    expectError(await request(s.server.url).get('/api/payments'), 400, 'validation_failed');
    expectError(await request(s.server.url).get('/api/payments').query({ orderId: 'abc' }), 400, 'validation_failed');
    expectError(await request(s.server.url).get('/api/payments').query({ orderId: '0' }), 400, 'validation_failed');
    const none = await request(s.server.url).get('/api/payments').query({ orderId: 999999999 });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ items: [] });
  });

  it('unknown routes are 404 JSON', async () => {
    expectError(await request(s.server.url).get('/api/nope'), 404, 'not_found');
  });
});

describe('payments service: capture (POST /internal/payments)', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('answers 201 with the payment JSON', async () => {
    const orderId = newOrderId();
    const res = await capture(s, { orderId, amountCents: 3399 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), orderId, amountCents: 3399, status: 'captured', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('captures up to 100000 cents and declines above, like the monolith', async () => {
    expect((await capture(s, { orderId: newOrderId(), amountCents: 100_000 })).body.status).toBe('captured');
    expect((await capture(s, { orderId: newOrderId(), amountCents: 100_001 })).body.status).toBe('declined');
    expect((await capture(s, { orderId: newOrderId(), amountCents: 0 })).body.status).toBe('captured');
  });

  it('the caller cannot move the decline line: a limitCents in the body is ignored', async () => {
    expect((await capture(s, { orderId: newOrderId(), amountCents: 200_000, limitCents: 1_000_000 })).body.status).toBe('declined');
    expect((await capture(s, { orderId: newOrderId(), amountCents: 500, limitCents: 499 })).body.status).toBe('captured');
  });

  it('refuses an unsigned capture or refund with 401 and stores nothing', async () => {
    const before = await countRows(s);
    expectError(await capture(s, { orderId: newOrderId(), amountCents: 1 }, { unsigned: true }), 401, 'unauthorized');
    const forged = { 'x-request-id': 'forged-1', 'x-strangler-signature': 'A'.repeat(43) };
    expectError(await capture(s, { orderId: newOrderId(), amountCents: 1 }, { unsigned: true, headers: forged }), 401, 'unauthorized');
    expectError(await capture(s, { orderId: newOrderId(), amountCents: 1 }, { unsigned: true, headers: { ...signedCall(), 'x-request-id': 'another-id' } }), 401, 'unauthorized');
    const paid = newOrderId();
    expect((await capture(s, { orderId: paid, amountCents: 1 })).status).toBe(201);
    expectError(await request(s.server.url).post(`/internal/payments/${paid}/refund`), 401, 'unauthorized');
    expectError(await request(s.server.url).post(`/Internal/payments/${paid}/refund`), 401, 'unauthorized');
    expect((await request(s.server.url).get('/api/payments').query({ orderId: paid })).body.items[0].status).toBe('captured');
    expect((await request(s.server.url).post(`/internal/payments/${paid}/refund`).set(signedCall())).body.status).toBe('refunded');
    expect((await countRows(s)).payments).toBe(before.payments + 1);
  });

  it.each([
    ['a missing orderId', { amountCents: 1 }],
    ['orderId 0', { orderId: 0, amountCents: 1 }],
    ['a string orderId', { orderId: '7', amountCents: 1 }],
    ['an orderId above 2^31-1', { orderId: 2_147_483_648, amountCents: 1 }],
    ['a negative amount', { orderId: 7, amountCents: -1 }],
    ['a fractional amount', { orderId: 7, amountCents: 1.5 }],
    ['an amount above 2^53', { orderId: 7, amountCents: 2 ** 53 }],
    ['an array body', [1, 2]],
  ])('rejects %s with 400 validation_failed and stores nothing', async (_what, body) => {
    const before = await countRows(s);
    expectError(await capture(s, body), 400, 'validation_failed');
    expect(await countRows(s)).toEqual(before);
  });

  it('malformed JSON is 400 invalid_json', async () => {
    const res = await request(s.server.url).post('/internal/payments').set(signedCall()).set('Idempotency-Key', 'k-json').set('content-type', 'application/json').send('{"orderId": ');
    expectError(res, 400, 'invalid_json');
  });

  it('a second payment for the same order under another key is 409 payment_exists, not a second charge', async () => {
    const orderId = newOrderId();
    const first = await capture(s, { orderId, amountCents: 700 });
    expect(first.status).toBe(201);
    expectError(await capture(s, { orderId, amountCents: 700 }), 409, 'payment_exists');
    const list = await request(s.server.url).get('/api/payments').query({ orderId });
    expect(list.body.items).toEqual([first.body]);
  });
});

describe('payments service: refund (POST /internal/payments/:orderId/refund)', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('refunds a captured payment; refunding again is 200 with the same refunded payment', async () => {
    const orderId = newOrderId();
    const captured = (await capture(s, { orderId, amountCents: 2500 })).body;
    const res = await request(s.server.url).post(`/internal/payments/${orderId}/refund`).set(signedCall());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...captured, status: 'refunded', updatedAt: expect.stringMatching(ISO) });
    const again = await request(s.server.url).post(`/internal/payments/${orderId}/refund`).set(signedCall());
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    const list = await request(s.server.url).get('/api/payments').query({ orderId });
    expect(list.body.items).toEqual([res.body]);
  });

  it('a declined payment is 409 not_refundable and stays declined', async () => {
    const orderId = newOrderId();
    await capture(s, { orderId, amountCents: 200_000 });
    expectError(await request(s.server.url).post(`/internal/payments/${orderId}/refund`).set(signedCall()), 409, 'not_refundable');
    expect((await request(s.server.url).get('/api/payments').query({ orderId })).body.items[0].status).toBe('declined');
  });

  it('an order without a payment is 404; a non-numeric order id is 404', async () => {
    expectError(await request(s.server.url).post('/internal/payments/999999999/refund').set(signedCall()), 404, 'not_found');
    expectError(await request(s.server.url).post('/internal/payments/abc/refund').set(signedCall()), 404, 'not_found');
  });
});

describe('payments service: own schema', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('every table has a primary key', async () => {
    const [rows] = await s.sequelize.query(`
      SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')`);
    expect(rows).toEqual([]);
  });

  it('payments.order_id is unique in the database itself', async () => {
    await s.sequelize.query("INSERT INTO payments (order_id, amount_cents, status) VALUES (42, 1, 'captured')");
    await expect(s.sequelize.query("INSERT INTO payments (order_id, amount_cents, status) VALUES (42, 1, 'captured')")).rejects.toMatchObject({
      name: 'SequelizeUniqueConstraintError',
    });
  });
});
