import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import type { Stage } from '../../control/plan';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(120_000);

describe('facade routing by stage (real Unleash, monolith and users service)', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    facade = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url, users: users.server.url }), unleash });
    // The same user id exists on both sides, with different names, so a response tells where it came from.
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada (monolith)')");
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('ada@example.com', 'Ada (service)')");
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  const get = (path: string, userId?: string) => {
    const r = request(facade.url).get(path);
    return userId ? r.set('x-user-id', userId) : r;
  };

  async function moveTo(stage: Stage, percent?: number) {
    await applyStage(admin, 'users', stage, percent);
    // Within 2 s of the admin API call the facade routes by the new stage.
    await eventually(() => expect(facade.facade.flags.state('users')).toMatchObject({ stage, ...(percent ? { percent } : {}) }), 2_000, 50);
  }

  it('monolith stage: every route goes to the monolith, with the contract headers', async () => {
    await moveTo('monolith');
    const res = await get('/api/users/1').set('x-request-id', 'req-42');
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Ada (monolith)');
    expect(res.headers).toMatchObject({ 'x-strangler-upstream': 'monolith', 'x-strangler-context': 'users', 'x-request-id': 'req-42' });
    const unmatched = await get('/health');
    expect(unmatched.headers).toMatchObject({ 'x-strangler-upstream': 'monolith', 'x-strangler-context': 'none' });
    expect(unmatched.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const orders = await get('/api/users/1/orders');
    expect(orders.headers['x-strangler-context']).toBe('orders');
  });

  it('cutover: the context\'s routes go to the service; the most specific route still wins', async () => {
    await moveTo('cutover');
    const res = await get('/api/users/1');
    expect(res.body.name).toBe('Ada (service)');
    expect(res.headers).toMatchObject({ 'x-strangler-upstream': 'users', 'x-strangler-context': 'users' });
    const list = await get('/api/users?limit=5');
    expect(list.headers['x-strangler-upstream']).toBe('users');
    // GET /api/users/:id/orders belongs to orders, which is still on the monolith.
    const orders = await get('/api/users/1/orders');
    expect(orders.headers).toMatchObject({ 'x-strangler-upstream': 'monolith', 'x-strangler-context': 'orders' });
  });

  it('canary at 50 %: each user sticks to one side, and about half the users go to the service', async () => {
    await moveTo('canary', 50);
    let toService = 0;
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    for (const u of users) {
      const sides = new Set<string>();
      for (let i = 0; i < 3; i++) sides.add((await get('/api/users/1', u)).headers['x-strangler-upstream']);
      expect(sides.size).toBe(1);
      if (sides.has('users')) toService += 1;
    }
    expect(toService / users.length).toBeGreaterThan(0.35);
    expect(toService / users.length).toBeLessThan(0.65);
  });

  it('retired: the service serves everything', async () => {
    await moveTo('retired');
    const res = await get('/api/users/1', 'user-1');
    expect(res.headers['x-strangler-upstream']).toBe('users');
    expect(res.body.name).toBe('Ada (service)');
  });

  it('a flag flipped in Unleash moves traffic within 2 s', async () => {
    await moveTo('monolith');
    await applyStage(admin, 'users', 'cutover');
    const flipped = Date.now();
    await eventually(async () => expect((await get('/api/users/1')).headers['x-strangler-upstream']).toBe('users'), 2_000, 50);
    expect(Date.now() - flipped).toBeLessThan(2_000);
  });

  it('strips client-sent x-strangler-* headers: a spoofed dry-run marker does not stop a real write', async () => {
    await moveTo('cutover');
    const res = await request(facade.url)
      .post('/api/users')
      .set('x-strangler-shadow', '1')
      .set('X-Strangler-Upstream', 'monolith')
      .send({ email: 'spoof@example.com', name: 'Spoofer' });
    expect(res.status).toBe(201);
    expect(res.headers['x-strangler-upstream']).toBe('users');
    const [rows] = await users.sequelize.query("SELECT count(*)::int AS n FROM users WHERE email = 'spoof@example.com'");
    expect((rows[0] as { n: number }).n).toBe(1);
  });

  it('refuses bodies over 1 MB with 413 JSON', async () => {
    const res = await request(facade.url)
      .post('/api/users')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ email: 'big@example.com', name: 'x'.repeat(1024 * 1024 + 1) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('admin routes need the token; status shows each context', async () => {
    const denied = await request(facade.url).get('/_strangler/status');
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe('unauthorized');
    expect((await request(facade.url).get('/_strangler/status').set('authorization', 'Bearer wrong')).status).toBe(401);
    expect((await request(facade.url).get('/_strangler/diffs')).status).toBe(401);
    const res = await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.contexts.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['notifications', 'orders', 'payments', 'users']);
    expect(byName.users).toMatchObject({
      name: 'users',
      stage: 'cutover',
      percent: 100,
      breaker: 'closed',
      routes: ['* /api/users', '* /api/users/:id'],
      shadow: { sampleRate: 0, compared: expect.any(Number), matched: expect.any(Number), diffs: expect.any(Number), diffRate: expect.any(Number), errors: expect.any(Number) },
    });
    const health = await request(facade.url).get('/_strangler/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ facade: 'ok', unleash: { state: 'synchronized' }, upstreams: { monolith: { status: 'ok' }, users: { status: 'ok' } } });
    const metrics = await request(facade.url).get('/_strangler/metrics');
    expect(metrics.text).toMatch(/strangler_facade_requests_total\{context="users",upstream="users",status="200"\}/);
    expect(metrics.text).toMatch(/strangler_context_stage\{context="users",stage="cutover"\} 1/);
  });
});
