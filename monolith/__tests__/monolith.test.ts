import request from 'supertest';
import { createLogger } from '../../lib/logger';
import { seedDemoData, SEED_ORDERS, SEED_USERS } from '../src/seed';
import { startTestMonolith, type TestMonolith } from '../testing';

async function counts(m: TestMonolith) {
  const [rows] = await m.sequelize.query(
    `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM orders)::int AS orders,
            (SELECT count(*) FROM order_items)::int AS items, (SELECT count(*) FROM payments)::int AS payments,
            (SELECT count(*) FROM notifications)::int AS notifications`,
  );
  return rows[0] as Record<string, number>;
}

describe('monolith: order placement is one transaction', () => {
  let m: TestMonolith;
  let failNext = false;
  beforeAll(async () => {
    m = await startTestMonolith({
      faults: {
        afterOrderInsert() {
          if (failNext) throw new Error('injected failure after the order insert');
        },
      },
    });
  });
  afterAll(() => m.stop());

  it('a failure after the order insert leaves no order, item, payment or notification behind', async () => {
    const user = await request(m.server.url).post('/api/users').send({ email: 'atomic@example.com', name: 'Atom' });
    const before = await counts(m);
    failNext = true;
    const res = await request(m.server.url)
      .post('/api/orders')
      .send({ userId: user.body.id, items: [{ sku: 'A', quantity: 1, unitPriceCents: 10 }] });
    failNext = false;
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(await counts(m)).toEqual(before);

    const ok = await request(m.server.url)
      .post('/api/orders')
      .send({ userId: user.body.id, items: [{ sku: 'A', quantity: 1, unitPriceCents: 10 }] });
    expect(ok.status).toBe(201);
    expect(await counts(m)).toEqual({ ...before, orders: 1, items: 1, payments: 1, notifications: 1 });
  });

  it('GET /health is 503 when the database does not answer', async () => {
    const other = await startTestMonolith();
    await other.sequelize.close();
    const res = await request(other.server.url).get('/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    await other.server.close();
    await other.db.drop();
  });
});

describe('monolith: demo seed', () => {
  let a: TestMonolith;
  let b: TestMonolith;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestMonolith(), startTestMonolith()]);
  });
  afterAll(() => Promise.all([a.stop(), b.stop()]));

  it('seeds 50 users and 100 orders once, identically on every run', async () => {
    const logger = createLogger('seed', 'silent');
    expect(await seedDemoData(a.monolith, logger)).toBe(true);
    expect(await seedDemoData(a.monolith, logger)).toBe(false);
    await seedDemoData(b.monolith, logger);
    const ca = await counts(a);
    expect(ca).toMatchObject({ users: SEED_USERS, orders: SEED_ORDERS, payments: SEED_ORDERS, notifications: SEED_ORDERS });
    const snapshot = (m: TestMonolith) =>
      m.sequelize.query('SELECT id, user_id, status, total_cents FROM orders ORDER BY id').then(([rows]) => rows);
    expect(await snapshot(a)).toEqual(await snapshot(b));
    const [declined] = await a.sequelize.query("SELECT count(*)::int AS n FROM orders WHERE status = 'payment_declined'");
    expect((declined[0] as { n: number }).n).toBeGreaterThan(0);
  });
});
