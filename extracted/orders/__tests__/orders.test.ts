import request from 'supertest';
import { signedDryRun } from '../../../test/harness/internal';
import { ConfigError } from '../../../lib/config';
import { freePort } from '../../../lib/net/ports';
import { loadConfig } from '../src/config';
import type { OrderFaults } from '../src/orders/orders.service';
import { startTestOrdersService, type TestOrdersService } from '../testing';
import { paymentsAnswer, startStub, usersAnswer, type Stub } from './stubs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({ status, code });
  expect(typeof (res.body as { error: { message: unknown } }).error.message).toBe('string');
}

async function query<T = Record<string, unknown>>(s: TestOrdersService, sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  const [rows] = await s.sequelize.query(sql, { replacements });
  return rows as T[];
}

const counts = async (s: TestOrdersService) =>
  (await query<{ orders: number; outbox: number }>(s, 'SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM outbox)::int AS outbox'))[0];

const ITEMS = [
  { sku: 'BOOK-001', quantity: 2, unitPriceCents: 1250 },
  { sku: 'MUG-RED', quantity: 1, unitPriceCents: 899 },
];

/** Stub users (1, 2 and 3 exist) and payments; short timeouts; a breaker that never opens here. */
async function startWithStubs(faults: OrderFaults = {}) {
  const users = await startStub(usersAnswer(new Set([1, 2, 3])));
  const payments = await startStub(paymentsAnswer());
  const s = await startTestOrdersService({
    users: { url: users.url, timeoutMs: 300, retries: 1 },
    payments: { url: payments.url, timeoutMs: 300, retries: 1, breaker: { volume: 10_000 } },
    faults,
  });
  return { s, users, payments, stop: async () => Promise.all([s.stop(), users.close(), payments.close()]) };
}

describe('orders service: own schema', () => {
  let s: TestOrdersService;
  let stop: () => Promise<unknown>;
  beforeAll(async () => {
    ({ s, stop } = await startWithStubs());
  });
  afterAll(() => stop());

  it('keeps items as a jsonb array on orders (no order_items table) and the monolith\'s other columns', async () => {
    const columns = await query<{ table_name: string; column_name: string; data_type: string }>(
      s,
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders' ORDER BY column_name",
    );
    expect(columns.map((c) => [c.column_name, c.data_type])).toEqual([
      ['created_at', 'timestamp with time zone'],
      ['currency', 'character'],
      ['id', 'integer'],
      ['items', 'jsonb'],
      ['status', 'character varying'],
      ['total_cents', 'bigint'],
      ['updated_at', 'timestamp with time zone'],
      ['user_id', 'integer'],
    ]);
    const tables = await query<{ name: string }>(s, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    expect(tables.map((t) => t.name)).toEqual(['orders', 'outbox', 'schema_migrations']);

    const placed = await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS });
    expect(placed.status).toBe(201);
    expect(await query(s, 'SELECT items FROM orders WHERE id = :id', { id: placed.body.id })).toEqual([{ items: ITEMS }]);
  });

  it('has an outbox with a unique event id, topic, key, jsonb payload and headers, and publication time', async () => {
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(
      s,
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'outbox' ORDER BY ordinal_position",
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ['id', 'bigint', 'NO'],
      ['event_id', 'uuid', 'NO'],
      ['topic', 'character varying', 'NO'],
      ['key', 'character varying', 'YES'],
      ['payload', 'jsonb', 'NO'],
      ['headers', 'jsonb', 'NO'],
      ['created_at', 'timestamp with time zone', 'NO'],
      ['published_at', 'timestamp with time zone', 'YES'],
    ]);
    const unique = await query(s, "SELECT 1 FROM pg_indexes WHERE tablename = 'outbox' AND indexdef LIKE 'CREATE UNIQUE INDEX%(event_id)%'");
    expect(unique).toHaveLength(1);
  });

  it('every table has a primary key', async () => {
    const rows = await query(
      s,
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')`,
    );
    expect(rows).toEqual([]);
  });
});

describe('orders service: placing and cancelling write the domain event to the outbox in the same transaction', () => {
  let s: TestOrdersService;
  let users: Stub;
  let payments: Stub;
  let stop: () => Promise<unknown>;
  beforeAll(async () => {
    ({ s, users, payments, stop } = await startWithStubs());
  });
  afterAll(() => stop());
  beforeEach(() => {
    users.requests.length = 0;
    payments.requests.length = 0;
  });

  const outboxFor = (orderId: number) =>
    query<{ event_id: string; topic: string; key: string; payload: Record<string, unknown>; headers: Record<string, string>; published_at: Date | null }>(
      s,
      'SELECT event_id, topic, key, payload, headers, published_at FROM outbox WHERE key = :key ORDER BY id',
      { key: String(orderId) },
    );

  it('a paid order: 201, one order.paid event with the order\'s data, the caller\'s trace and request id passed on', async () => {
    const res = await request(s.server.url)
      .post('/api/orders')
      .set({ 'x-request-id': 'req-paid-1', traceparent: TRACEPARENT })
      .send({ userId: 2, items: ITEMS });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), userId: 2, status: 'paid', totalCents: 3399, currency: 'USD', items: ITEMS, createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) });

    const [event, ...more] = await outboxFor(res.body.id);
    expect(more).toEqual([]);
    expect(event).toEqual({
      event_id: expect.stringMatching(UUID),
      topic: s.topic,
      key: String(res.body.id),
      payload: { eventId: event.event_id, type: 'order.paid', orderId: res.body.id, userId: 2, totalCents: 3399, currency: 'USD', occurredAt: expect.stringMatching(ISO) },
      headers: { 'event-id': event.event_id, 'event-type': 'order.paid', traceparent: TRACEPARENT },
      published_at: null,
    });

    expect(users.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/users/2', headers: expect.objectContaining({ 'x-request-id': 'req-paid-1', traceparent: TRACEPARENT }) }),
    ]);
    expect(payments.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/internal/payments',
        body: { orderId: res.body.id, amountCents: 3399 },
        headers: expect.objectContaining({ 'idempotency-key': `order-${res.body.id}-capture`, 'x-request-id': 'req-paid-1', traceparent: TRACEPARENT }),
      }),
    ]);
  });

  it('a declined order: 201 payment_declined and an order.payment_declined event', async () => {
    const res = await request(s.server.url).post('/api/orders').send({ userId: 2, items: [{ sku: 'LAPTOP', quantity: 1, unitPriceCents: 100_001 }] });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('payment_declined');
    expect((await outboxFor(res.body.id)).map((e) => [e.payload.type, e.headers['event-type'], e.payload.totalCents])).toEqual([
      ['order.payment_declined', 'order.payment_declined', 100_001],
    ]);
  });

  it('cancelling refunds through payments and adds an order.cancelled event; a second cancel is 409 and adds nothing', async () => {
    const placed = (await request(s.server.url).post('/api/orders').send({ userId: 3, items: ITEMS })).body;
    const res = await request(s.server.url).post(`/api/orders/${placed.id}/cancel`).set('x-request-id', 'req-cancel-1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...placed, status: 'cancelled', updatedAt: expect.stringMatching(ISO) });
    expect(payments.requests.at(-1)).toEqual(
      expect.objectContaining({ method: 'POST', path: `/internal/payments/${placed.id}/refund`, headers: expect.objectContaining({ 'x-request-id': 'req-cancel-1' }) }),
    );
    expectError(await request(s.server.url).post(`/api/orders/${placed.id}/cancel`), 409, 'not_cancellable');
    const events = await outboxFor(placed.id);
    expect(events.map((e) => e.payload.type)).toEqual(['order.paid', 'order.cancelled']);
    expect(events[1].payload).toEqual(expect.objectContaining({ orderId: placed.id, userId: 3, totalCents: 3399, currency: 'USD' }));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(2);
  });

  it('an unknown user is 422 unknown_user; nothing is stored and payments is never asked', async () => {
    const before = await counts(s);
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 99, items: ITEMS }), 422, 'unknown_user');
    expect(payments.requests).toEqual([]);
    expect(await counts(s)).toEqual(before);
  });

  it('a dry run passes x-strangler-shadow to users and payments, answers for real and keeps no order or event', async () => {
    const before = await counts(s);
    const res = await request(s.server.url).post('/api/orders').set(signedDryRun()).send({ userId: 1, items: ITEMS });
    expect(res.status).toBe(201);
    expect(res.body).toEqual(expect.objectContaining({ userId: 1, status: 'paid', totalCents: 3399, items: ITEMS }));
    expect(users.requests.map((r) => r.headers['x-strangler-shadow'])).toEqual(['1']);
    expect(payments.requests.map((r) => [r.path, r.headers['x-strangler-shadow']])).toEqual([['/internal/payments', '1']]);
    expect(await counts(s)).toEqual(before);
    expect((await request(s.server.url).get(`/api/orders/${res.body.id}`)).status).toBe(404);
  });

  it('bad input is 400 before any other service is asked', async () => {
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 1, items: [] }), 400, 'validation_failed');
    expect(users.requests).toEqual([]);
  });
});

describe('orders service: when another service fails', () => {
  let s: TestOrdersService;
  let users: Stub;
  let payments: Stub;
  let stop: () => Promise<unknown>;
  const failCommit = { on: false };
  beforeAll(async () => {
    ({ s, users, payments, stop } = await startWithStubs({
      beforeCommit: () => {
        if (failCommit.on) throw new Error('database lost before commit');
      },
    }));
  });
  afterAll(() => stop());
  const normalUsers = usersAnswer(new Set([1]));
  const normalPayments = paymentsAnswer();
  beforeEach(() => {
    users.requests.length = 0;
    payments.requests.length = 0;
    users.answer = normalUsers;
    payments.answer = normalPayments;
    failCommit.on = false;
  });

  it('retries the users lookup once after a 5xx and then places the order', async () => {
    let calls = 0;
    users.answer = (req) => (++calls === 1 ? { status: 502, body: {} } : normalUsers(req));
    const res = await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS });
    expect(res.status).toBe(201);
    expect(users.requests).toHaveLength(2);
  });

  it.each([
    ['keeps answering 500', { status: 500, body: {} }],
    ['hangs past the timeout', 'hang'],
    ['drops the connection', 'reset'],
    ['answers 200 with something that is not the user', { status: 200, body: { nope: true } }],
  ] as const)('is 503 upstream_unavailable, stores nothing and charges nothing when users %s', async (_what, answer) => {
    users.answer = () => answer;
    const before = await counts(s);
    const started = Date.now();
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS }), 503, 'upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(payments.requests).toEqual([]);
    expect(await counts(s)).toEqual(before);
  });

  it('is 503 upstream_unavailable when users is not running at all', async () => {
    const closed = await startTestOrdersService({ users: { url: `http://127.0.0.1:${await freePort()}`, retries: 1 }, payments: { url: payments.url } });
    try {
      expectError(await request(closed.server.url).post('/api/orders').send({ userId: 1, items: ITEMS }), 503, 'upstream_unavailable');
      expect(payments.requests).toEqual([]);
    } finally {
      await closed.stop();
    }
  });

  it('payments failing on every attempt: 503, the order and its event are rolled back, and a refund is tried in case it captured', async () => {
    payments.answer = (req) => (req.path.endsWith('/refund') ? normalPayments(req) : { status: 503, body: { error: { code: 'unavailable', message: 'down' } } });
    const before = await counts(s);
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS }), 503, 'upstream_unavailable');
    expect(await counts(s)).toEqual(before);
    const captures = payments.requests.filter((r) => r.path === '/internal/payments');
    expect(captures).toHaveLength(2);
    // Both attempts are the same request: a retry can never charge twice.
    expect(new Set(captures.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    const orderId = (captures[0].body as { orderId: number }).orderId;
    expect(payments.requests.at(-1)).toEqual(expect.objectContaining({ path: `/internal/payments/${orderId}/refund` }));
  });

  it('a failure after the capture (before the commit) rolls the order back and refunds the captured payment', async () => {
    failCommit.on = true;
    const before = await counts(s);
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS }), 500, 'internal_error');
    expect(await counts(s)).toEqual(before);
    const [capture, refund] = payments.requests;
    const orderId = (capture.body as { orderId: number }).orderId;
    expect(refund).toEqual(expect.objectContaining({ path: `/internal/payments/${orderId}/refund` }));
  });

  it('payments answering an unexpected 4xx is 503 upstream_unavailable and nothing is kept', async () => {
    payments.answer = (req) => (req.path.endsWith('/refund') ? normalPayments(req) : { status: 409, body: { error: { code: 'payment_exists', message: 'x' } } });
    const before = await counts(s);
    expectError(await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS }), 503, 'upstream_unavailable');
    expect(await counts(s)).toEqual(before);
    expect(payments.requests.filter((r) => r.path === '/internal/payments')).toHaveLength(1);
  });

  it('cancel: a refund that fails is 503 and the order stays paid with no cancelled event; the retry cancels', async () => {
    const placed = (await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS })).body;
    payments.answer = (req) => (req.path.endsWith('/refund') ? 'hang' : normalPayments(req));
    expectError(await request(s.server.url).post(`/api/orders/${placed.id}/cancel`), 503, 'upstream_unavailable');
    expect((await request(s.server.url).get(`/api/orders/${placed.id}`)).body.status).toBe('paid');
    expect(await query(s, "SELECT 1 FROM outbox WHERE key = :key AND payload->>'type' = 'order.cancelled'", { key: String(placed.id) })).toEqual([]);

    payments.answer = normalPayments;
    const retried = await request(s.server.url).post(`/api/orders/${placed.id}/cancel`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('cancelled');
  });

  it('cancel: a paid order whose payment payments does not know is still cancelled, like the monolith', async () => {
    const placed = (await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS })).body;
    payments.answer = (req) => (req.path.endsWith('/refund') ? { status: 404, body: { error: { code: 'not_found', message: 'payment not found' } } } : normalPayments(req));
    const res = await request(s.server.url).post(`/api/orders/${placed.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
  });

  it('reads never need the other services', async () => {
    const placed = (await request(s.server.url).post('/api/orders').send({ userId: 1, items: ITEMS })).body;
    users.answer = () => 'reset';
    payments.answer = () => 'reset';
    expect((await request(s.server.url).get(`/api/orders/${placed.id}`)).body).toEqual(placed);
    expect((await request(s.server.url).get('/api/users/1/orders')).body.items[0]).toEqual(placed);
    expect((await request(s.server.url).get('/health')).body).toEqual({ status: 'ok' });
  });
});

describe('orders service: configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/orders' })).toEqual({
      PORT: 3102,
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/orders',
      USERS_URL: 'http://127.0.0.1:3101',
      USERS_TIMEOUT_MS: 2000,
      USERS_RETRIES: 2,
      PAYMENTS_URL: 'http://127.0.0.1:3103',
      PAYMENTS_TIMEOUT_MS: 3000,
      PAYMENTS_RETRIES: 2,
      PAYMENTS_BREAKER_RESET_MS: 10_000,
      PAYMENTS_BREAKER_ERROR_PERCENT: 50,
      PAYMENTS_BREAKER_VOLUME: 5,
      PAYMENTS_BREAKER_WINDOW_MS: 10_000,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      ORDERS_EVENTS_TOPIC: 'shop.orders.events',
      ORDERS_EVENTS_PARTITIONS: 3,
      OUTBOX_POLL_MS: 500,
      OUTBOX_BATCH_SIZE: 100,
      // Faults switch only on a stack started with `strangler up --workshop`.
      STRANGLER_WORKSHOP: '0',
    });
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'nope', USERS_URL: 'x', PAYMENTS_TIMEOUT_MS: '0', KAFKA_BROKERS: 'a:1,b', PAYMENTS_BREAKER_ERROR_PERCENT: '101' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).issues.map((i) => i.field.split('.')[0]).sort();
    expect(fields).toEqual(['DATABASE_URL', 'KAFKA_BROKERS', 'PAYMENTS_BREAKER_ERROR_PERCENT', 'PAYMENTS_TIMEOUT_MS', 'USERS_URL']);
  });
});
