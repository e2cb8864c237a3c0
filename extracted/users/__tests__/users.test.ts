import request from 'supertest';
import { signedDryRun } from '../../../test/harness/internal';
import { freePort } from '../../../lib/net/ports';
import { startTestUsersService, type TestUsersService } from '../testing';
import { startStubOrders, type StubOrders } from './stub-orders';
import { workshopFromConfig } from '../../../lib/http/workshop';
import { USERS_BUGS } from '../src/users/users.service';

function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({ status, code });
}

async function countUsers(s: TestUsersService): Promise<number> {
  const [rows] = await s.sequelize.query('SELECT count(*)::int AS n FROM users');
  return (rows[0] as { n: number }).n;
}

async function newUser(s: TestUsersService, email: string, name = 'Test User') {
  const res = await request(s.server.url).post('/api/users').send({ email, name });
  expect(res.status).toBe(201);
  return res.body as { id: number; email: string; name: string; updatedAt: string };
}

describe('users service: own schema', () => {
  let s: TestUsersService;
  beforeAll(async () => {
    s = await startTestUsersService({ orders: { url: 'http://127.0.0.1:9' } });
  });
  afterAll(() => s.stop());

  it('stores the name in users.full_name and has no name column', async () => {
    const [columns] = await s.sequelize.query(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY column_name",
    );
    expect(columns.map((c) => (c as { column_name: string }).column_name)).toEqual(['created_at', 'email', 'full_name', 'id', 'updated_at']);

    const user = await newUser(s, 'column@example.com', 'Ada Lovelace');
    expect(user.name).toBe('Ada Lovelace');
    const [rows] = await s.sequelize.query('SELECT full_name FROM users WHERE id = :id', { replacements: { id: user.id } });
    expect(rows).toEqual([{ full_name: 'Ada Lovelace' }]);

    const renamed = await request(s.server.url).patch(`/api/users/${user.id}`).send({ name: 'Augusta King' });
    expect(renamed.body.name).toBe('Augusta King');
    const [after] = await s.sequelize.query('SELECT full_name FROM users WHERE id = :id', { replacements: { id: user.id } });
    expect(after).toEqual([{ full_name: 'Augusta King' }]);
  });

  it('every table has a primary key', async () => {
    const [rows] = await s.sequelize.query(`
      SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')`);
    expect(rows).toEqual([]);
  });
});

describe('users service: DELETE asks the orders service', () => {
  let orders: StubOrders;
  let s: TestUsersService;
  beforeAll(async () => {
    orders = await startStubOrders();
    s = await startTestUsersService({ orders: { url: orders.url, timeoutMs: 300 } });
  });
  afterAll(async () => {
    await s.stop();
    await orders.close();
  });
  beforeEach(() => {
    orders.requests.length = 0;
    orders.answer = () => ({ status: 200, body: { items: [] } });
  });

  it('is 409 user_has_orders when the orders service lists orders for the user, and keeps the user', async () => {
    const user = await newUser(s, 'has-orders@example.com');
    orders.answer = (userId) => ({ status: 200, body: { items: userId === user.id ? [{ id: 7, userId }] : [] } });
    const res = await request(s.server.url).delete(`/api/users/${user.id}`).set('x-request-id', 'req-42');
    expectError(res, 409, 'user_has_orders');
    expect(orders.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: `/api/users/${user.id}/orders`, headers: expect.objectContaining({ 'x-request-id': 'req-42' }) }),
    ]);
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
  });

  it('deletes when the orders service lists none', async () => {
    const user = await newUser(s, 'no-orders@example.com');
    expect((await request(s.server.url).delete(`/api/users/${user.id}`)).status).toBe(204);
    expect(orders.requests).toHaveLength(1);
    expectError(await request(s.server.url).get(`/api/users/${user.id}`), 404, 'not_found');
  });

  it('an unknown user is 404 without asking the orders service', async () => {
    expectError(await request(s.server.url).delete('/api/users/999999'), 404, 'not_found');
    expect(orders.requests).toEqual([]);
  });

  it.each([
    ['answers 500', { status: 500, body: { error: { code: 'internal_error', message: 'boom' } } }],
    ['answers 404', { status: 404, body: { error: { code: 'not_found', message: 'no route' } } }],
    ['answers 200 with something that is not a list', { status: 200, body: { orders: 3 } }],
    ['answers 200 with no JSON', { status: 200 }],
  ] as const)('is 503 upstream_unavailable and keeps the user when orders %s', async (_what, answer) => {
    const user = await newUser(s, `odd-${answer.status}-${orders.requests.length}-${Date.now()}@example.com`);
    orders.answer = () => answer;
    expectError(await request(s.server.url).delete(`/api/users/${user.id}`), 503, 'upstream_unavailable');
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
  });

  it('is 503 upstream_unavailable within the timeout when orders hangs', async () => {
    const user = await newUser(s, 'hang@example.com');
    orders.answer = () => 'hang';
    const started = Date.now();
    const res = await request(s.server.url).delete(`/api/users/${user.id}`);
    expectError(res, 503, 'upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
  });
});

describe('users service: orders service unreachable', () => {
  let s: TestUsersService;
  beforeAll(async () => {
    // A port that was free a moment ago: connections are refused.
    s = await startTestUsersService({ orders: { url: `http://127.0.0.1:${await freePort()}` } });
  });
  afterAll(() => s.stop());

  it('DELETE is 503 upstream_unavailable and the user is not deleted', async () => {
    const user = await newUser(s, 'unreachable@example.com');
    const res = await request(s.server.url).delete(`/api/users/${user.id}`);
    expectError(res, 503, 'upstream_unavailable');
    expect(typeof res.body.error.message).toBe('string');
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
    expect(await countUsers(s)).toBe(1);
  });

  it('everything that does not need orders still works', async () => {
    const user = await newUser(s, 'still-works@example.com');
    expect((await request(s.server.url).patch(`/api/users/${user.id}`).send({ name: 'Fine' })).status).toBe(200);
    expect((await request(s.server.url).get('/api/users')).status).toBe(200);
    expect((await request(s.server.url).get('/health')).body).toEqual({ status: 'ok' });
  });
});

describe('users service: dry run (x-strangler-shadow: 1) answers for real and leaves nothing behind', () => {
  let orders: StubOrders;
  let s: TestUsersService;
  const shadow = signedDryRun();
  beforeAll(async () => {
    orders = await startStubOrders();
    s = await startTestUsersService({ orders: { url: orders.url } });
  });
  afterAll(async () => {
    await s.stop();
    await orders.close();
  });
  beforeEach(() => {
    orders.requests.length = 0;
    orders.answer = () => ({ status: 200, body: { items: [] } });
  });

  it('POST /api/users: 201 with the user it would create, no row', async () => {
    const before = await countUsers(s);
    const res = await request(s.server.url).post('/api/users').set(shadow).send({ email: 'dry@example.com', name: 'Dry Run' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(Number), email: 'dry@example.com', name: 'Dry Run', createdAt: expect.any(String), updatedAt: expect.any(String) });
    expect(await countUsers(s)).toBe(before);
    expectError(await request(s.server.url).get(`/api/users/${res.body.id}`), 404, 'not_found');
    // The email is still free for a real create.
    expect((await request(s.server.url).post('/api/users').send({ email: 'dry@example.com', name: 'Real' })).status).toBe(201);
  });

  it('refuses a dry-run header without the facade\'s signature with 401: no answer that looks like a created user', async () => {
    const before = await countUsers(s);
    const attempts: Record<string, string>[] = [
      { 'x-strangler-shadow': '1' },
      { 'x-strangler-shadow': '1', 'x-request-id': 'forged-1', 'x-strangler-signature': 'A'.repeat(43) },
      // A genuine signature belongs to its request id only.
      { ...signedDryRun(), 'x-request-id': 'another-id' },
    ];
    for (const headers of attempts) {
      expectError(await request(s.server.url).post('/api/users').set(headers).send({ email: 'unsigned-dry@example.com', name: 'Nobody' }), 401, 'unauthorized');
    }
    expect(await countUsers(s)).toBe(before);
  });

  it('POST /api/users with a taken email: still 409 email_taken, nothing changes', async () => {
    await newUser(s, 'taken-dry@example.com');
    const before = await countUsers(s);
    const res = await request(s.server.url).post('/api/users').set(shadow).send({ email: 'TAKEN-dry@example.com', name: 'Second' });
    expectError(res, 409, 'email_taken');
    expect(await countUsers(s)).toBe(before);
  });

  it('POST /api/users with a bad body: still 400', async () => {
    expectError(await request(s.server.url).post('/api/users').set(shadow).send({ email: 'nope', name: 'X' }), 400, 'validation_failed');
  });

  it('PATCH /api/users/:id: 200 with the patched user, row unchanged', async () => {
    const user = await newUser(s, 'patch-dry@example.com', 'Before');
    const res = await request(s.server.url).patch(`/api/users/${user.id}`).set(shadow).send({ name: 'After', email: 'moved-dry@example.com' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, name: 'After', email: 'moved-dry@example.com' });
    const [rows] = await s.sequelize.query('SELECT email, full_name, updated_at FROM users WHERE id = :id', { replacements: { id: user.id } });
    expect(rows).toEqual([{ email: 'patch-dry@example.com', full_name: 'Before', updated_at: new Date(user.updatedAt) }]);
  });

  it('PATCH /api/users/:id to a taken email: still 409; unknown user: still 404', async () => {
    const a = await newUser(s, 'patch-a@example.com');
    await newUser(s, 'patch-b@example.com');
    expectError(await request(s.server.url).patch(`/api/users/${a.id}`).set(shadow).send({ email: 'PATCH-B@example.com' }), 409, 'email_taken');
    expectError(await request(s.server.url).patch('/api/users/999999').set(shadow).send({ name: 'Ghost' }), 404, 'not_found');
  });

  it('DELETE /api/users/:id: 204, the user still exists, and the header went on to orders', async () => {
    const user = await newUser(s, 'delete-dry@example.com');
    const before = await countUsers(s);
    const res = await request(s.server.url).delete(`/api/users/${user.id}`).set(shadow);
    expect(res.status).toBe(204);
    expect(await countUsers(s)).toBe(before);
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
    expect(orders.requests).toEqual([expect.objectContaining({ headers: expect.objectContaining({ 'x-strangler-shadow': '1' }) })]);
  });

  it('DELETE /api/users/:id of a user with orders: still 409 user_has_orders', async () => {
    const user = await newUser(s, 'delete-dry-orders@example.com');
    orders.answer = () => ({ status: 200, body: { items: [{ id: 1 }] } });
    expectError(await request(s.server.url).delete(`/api/users/${user.id}`).set(shadow), 409, 'user_has_orders');
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).status).toBe(200);
  });

  it('a real request does not forward the dry-run header', async () => {
    const user = await newUser(s, 'delete-real@example.com');
    expect((await request(s.server.url).delete(`/api/users/${user.id}`)).status).toBe(204);
    expect(orders.requests[0].headers['x-strangler-shadow']).toBeUndefined();
  });
});

describe('users service: the workshop\'s planted bug', () => {
  const token = 'workshop-admin-token-0123456789';
  const auth = { authorization: `Bearer ${token}` };
  let s: TestUsersService;
  let off: TestUsersService;
  beforeAll(async () => {
    s = await startTestUsersService({ orders: { url: 'http://127.0.0.1:9' }, workshop: workshopFromConfig('users', { STRANGLER_WORKSHOP: '1', STRANGLER_ADMIN_TOKEN: token }, USERS_BUGS) });
    off = await startTestUsersService({ orders: { url: 'http://127.0.0.1:9' }, workshop: workshopFromConfig('users', { STRANGLER_WORKSHOP: '0', STRANGLER_ADMIN_TOKEN: token }, USERS_BUGS) });
  });
  afterAll(() => Promise.all([s.stop(), off.stop()]));

  it('users-name-truncated cuts names in every answer while it is on, and the switch needs no restart', async () => {
    const user = await newUser(s, 'planted@example.com', 'Margaret Lovelace');
    await request(s.server.url).post('/_workshop/bugs/users-name-truncated').set(auth).send({ on: true }).expect(200);
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).body.name).toBe('Margaret Lov');
    expect((await request(s.server.url).get('/api/users')).body.items.map((u: { name: string }) => u.name)).toContain('Margaret Lov');
    await request(s.server.url).post('/_workshop/bugs/users-name-truncated').set(auth).send({ on: false }).expect(200);
    expect((await request(s.server.url).get(`/api/users/${user.id}`)).body.name).toBe('Margaret Lovelace');
  });

  it('is refused outside workshop mode, and the service answers as it should', async () => {
    const user = await newUser(off, 'unplanted@example.com', 'Margaret Lovelace');
    expectError(await request(off.server.url).post('/_workshop/bugs/users-name-truncated').set(auth).send({ on: true }), 403, 'workshop_mode_off');
    expect((await request(off.server.url).get(`/api/users/${user.id}`)).body.name).toBe('Margaret Lovelace');
  });
});
