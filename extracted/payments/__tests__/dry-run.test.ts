import request from 'supertest';
import { signedCall } from '../../../test/harness/internal';
import { startTestPaymentsService, type TestPaymentsService } from '../testing';
import { capture, countRows, expectError, ISO, newOrderId } from './helpers';

const shadow = { 'x-strangler-shadow': '1' };

describe('payments service: dry run (x-strangler-shadow: 1) answers for real and leaves nothing behind', () => {
  let s: TestPaymentsService;
  beforeAll(async () => {
    s = await startTestPaymentsService();
  });
  afterAll(() => s.stop());

  it('POST /internal/payments: 201 with the payment it would make, no payment and no key stored', async () => {
    const orderId = newOrderId();
    const before = await countRows(s);
    const res = await capture(s, { orderId, amountCents: 800 }, { key: 'dry-capture', headers: shadow });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), orderId, amountCents: 800, status: 'captured', createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });
    expect(await countRows(s)).toEqual(before);
    expect((await request(s.server.url).get('/api/payments').query({ orderId })).body).toEqual({ items: [] });

    // Neither the key nor the order was used up: the real capture afterwards is a first capture.
    const real = await capture(s, { orderId, amountCents: 800 }, { key: 'dry-capture' });
    expect(real.status).toBe(201);
    expect(await countRows(s)).toEqual({ payments: before.payments + 1, keys: before.keys + 1 });
  });

  it('POST /internal/payments declined: still declined, nothing stored', async () => {
    const before = await countRows(s);
    const res = await capture(s, { orderId: newOrderId(), amountCents: 100_001 }, { headers: shadow });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('declined');
    expect(await countRows(s)).toEqual(before);
  });

  it('POST /internal/payments replaying a real key: 200 with the real payment, nothing added', async () => {
    const body = { orderId: newOrderId(), amountCents: 300 };
    const real = await capture(s, body, { key: 'real-then-dry' });
    const before = await countRows(s);
    const dry = await capture(s, body, { key: 'real-then-dry', headers: shadow });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual(real.body);
    expectError(await capture(s, { ...body, amountCents: 301 }, { key: 'real-then-dry', headers: shadow }), 422, 'idempotency_key_reused');
    expectError(await capture(s, body, { key: 'another-key', headers: shadow }), 409, 'payment_exists');
    expect(await countRows(s)).toEqual(before);
  });

  it('POST /internal/payments without a key: still 400', async () => {
    expectError(await capture(s, { orderId: newOrderId(), amountCents: 1 }, { key: null, headers: shadow }), 400, 'validation_failed');
  });

  it('POST /internal/payments/:orderId/refund: 200 with the refunded payment, the row stays captured', async () => {
    const orderId = newOrderId();
    const captured = (await capture(s, { orderId, amountCents: 900 })).body;
    const res = await request(s.server.url).post(`/internal/payments/${orderId}/refund`).set(signedCall()).set(shadow);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...captured, status: 'refunded', updatedAt: expect.stringMatching(ISO) });
    const [rows] = await s.sequelize.query('SELECT status, updated_at FROM payments WHERE order_id = :orderId', { replacements: { orderId } });
    expect(rows).toEqual([{ status: 'captured', updated_at: new Date(captured.updatedAt) }]);
    // And the real refund still works afterwards.
    expect((await request(s.server.url).post(`/internal/payments/${orderId}/refund`).set(signedCall())).body.status).toBe('refunded');
  });

  it('POST /internal/payments/:orderId/refund errors are the real ones', async () => {
    const declined = newOrderId();
    await capture(s, { orderId: declined, amountCents: 500_000 });
    expectError(await request(s.server.url).post(`/internal/payments/${declined}/refund`).set(signedCall()).set(shadow), 409, 'not_refundable');
    expectError(await request(s.server.url).post('/internal/payments/999999999/refund').set(signedCall()).set(shadow), 404, 'not_found');
  });
});
