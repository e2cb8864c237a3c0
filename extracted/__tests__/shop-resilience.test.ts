import request from 'supertest';
import { listen, type RunningServer } from '../../lib/http/server';
import { uniqueEmail } from '../../test/contract/target';
import { eventually } from '../../test/harness/eventually';
import { describeWithKafka } from '../../test/harness/kafka';
import { rowCounts, startShop, type Shop } from './shop';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

const ITEMS = [{ sku: 'BOOK-001', quantity: 1, unitPriceCents: 700 }];
const PAYMENTS_TIMEOUT_MS = 700;
const BREAKER_RESET_MS = 500;
// "Fast": well under a second and under one payments timeout, with room for a loaded CI machine.
const FAST_MS = 350;

describeWithKafka('extracted services: orders → payments under failure (retries, idempotency key, circuit breaker)', () => {
  let shop: Shop;
  let proxy: TcpProxy;
  let restarted: RunningServer | undefined;
  let userId: number;
  beforeAll(async () => {
    shop = await startShop({
      // Orders reaches payments through a proxy that can lose a response or play dead.
      paymentsUrl: async (url) => (proxy = await startTcpProxy(url)).url,
      orders: {
        payments: {
          timeoutMs: PAYMENTS_TIMEOUT_MS,
          retries: 1,
          breaker: { resetMs: BREAKER_RESET_MS, volume: 3, errorPercent: 50, windowMs: 5000 },
        },
      },
    });
    userId = (await request(shop.users.server.url).post('/api/users').send({ email: uniqueEmail('resilience'), name: 'R' })).body.id;
  });
  afterAll(async () => {
    await restarted?.close();
    await shop?.stop();
    await proxy?.close();
  });

  const placeOrder = () => request(shop.orders.server.url).post('/api/orders').send({ userId, items: ITEMS });
  const timed = async () => {
    const started = Date.now();
    const res = await placeOrder();
    return { status: res.status, code: res.body?.error?.code as string | undefined, ms: Date.now() - started, body: res.body };
  };
  const circuitMetric = async () => {
    const text = (await request(shop.orders.server.url).get('/metrics')).text;
    return Number(/^orders_payments_circuit_state (\d+)$/m.exec(text)?.[1]);
  };
  /** Places orders until one is answered 503 fast; returns every answer. The breaker must open within `max` tries. */
  const untilFailingFast = async (max: number) => {
    const answers = [];
    for (let i = 0; i < max; i++) {
      const a = await timed();
      answers.push(a);
      if (a.status === 503 && a.ms < FAST_MS) return answers;
    }
    throw new Error(`no fast 503 after ${max} orders: ${JSON.stringify(answers.map(({ status, ms }) => ({ status, ms })))}`);
  };

  it('a capture whose response is lost is retried with the same Idempotency-Key: one payment, one paid order', async () => {
    const before = await rowCounts(shop);
    proxy.dropNextResponse();
    const res = await placeOrder();
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('paid');
    expect(proxy.droppedResponses).toBe(1);

    const payments = await request(shop.payments.server.url).get('/api/payments').query({ orderId: res.body.id });
    expect(payments.body.items).toEqual([expect.objectContaining({ orderId: res.body.id, amountCents: 700, status: 'captured' })]);
    const [keys] = await shop.payments.sequelize.query('SELECT key FROM idempotency_keys WHERE payment_id = :id', { replacements: { id: payments.body.items[0].id } });
    expect(keys).toEqual([{ key: `order-${res.body.id}-capture` }]);
    const after = await rowCounts(shop);
    expect({ orders: after.orders - before.orders, payments: after.payments - before.payments }).toEqual({ orders: 1, payments: 1 });
  });

  it('payments stopped: 503 upstream_unavailable, then the breaker fails fast without calling payments; back once payments is', async () => {
    const before = await rowCounts(shop);
    const port = Number(new URL(shop.payments.server.url).port);
    await shop.payments.server.close();
    try {
      const answers = await untilFailingFast(8);
      for (const a of answers) expect({ status: a.status, code: a.code }).toEqual({ status: 503, code: 'upstream_unavailable' });
      expect(await circuitMetric()).toBe(2);
      // Open: orders answers at once and payments is not even asked.
      const chunks = proxy.requestChunks;
      for (let i = 0; i < 3; i++) {
        const a = await timed();
        expect({ status: a.status, code: a.code }).toEqual({ status: 503, code: 'upstream_unavailable' });
        expect(a.ms).toBeLessThan(FAST_MS);
      }
      expect(proxy.requestChunks).toBe(chunks);
      expect((await rowCounts(shop)).orders).toBe(before.orders);
    } finally {
      restarted = await listen(shop.payments.service.app, port);
    }
    // After the reset timeout one probe goes through; it succeeds, and the circuit closes.
    const recovered = await eventually(async () => {
      const a = await timed();
      expect(a.status).toBe(201);
      return a;
    }, 5000, BREAKER_RESET_MS / 5);
    expect(recovered.body.status).toBe('paid');
    expect(await circuitMetric()).toBe(0);
    expect((await rowCounts(shop)).orders).toBe(before.orders + 1);
  });

  it('payments hanging: the first orders wait for the timeout, then the breaker answers 503 in well under a second', async () => {
    const before = await rowCounts(shop);
    proxy.mode = 'blackhole';
    try {
      const answers = await untilFailingFast(6);
      expect(answers[0]).toEqual(expect.objectContaining({ status: 503, code: 'upstream_unavailable' }));
      expect(answers[0].ms).toBeGreaterThanOrEqual(PAYMENTS_TIMEOUT_MS);
      expect(answers.at(-1)).toEqual(expect.objectContaining({ status: 503, code: 'upstream_unavailable' }));
      // No half-placed order is visible while its capture hangs or after it failed.
      expect((await rowCounts(shop)).orders).toBe(before.orders);
    } finally {
      proxy.mode = 'forward';
    }
    await eventually(async () => expect((await placeOrder()).status).toBe(201), 5000, BREAKER_RESET_MS / 5);
    expect((await rowCounts(shop)).orders).toBe(before.orders + 1);
  });
});
