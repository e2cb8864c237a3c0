import http from 'node:http';
import request from 'supertest';
import { listen, type RunningServer } from '../../lib/http/server';
import { parsePlan } from '../../control/plan';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { head, rawExchange } from '../../test/faults/support/raw-http';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(120_000);

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('facade shadow mode (real Unleash, monolith and users service)', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    facade = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url, users: users.server.url }), unleash });
    await applyStage(admin, 'users', 'shadow');
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 2_000, 50);
    // Same ids on both sides; user 2 differs in name (a planted bug in the "migration"), timestamps differ anyway.
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('same@example.com', 'Same'), ('ada@example.com', 'Ada Lovelace')");
    await new Promise((r) => setTimeout(r, 20));
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('same@example.com', 'Same'), ('ada@example.com', 'Ada L.')");
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  const status = async () => {
    const res = await request(facade.url).get('/_strangler/status').set(auth);
    return res.body.contexts.find((c: { name: string }) => c.name === 'users');
  };

  it('answers from the monolith and records the planted difference, ignoring the ignored paths', async () => {
    const same = await request(facade.url).get('/api/users/1');
    expect(same.headers['x-strangler-upstream']).toBe('monolith');
    const planted = await request(facade.url).get('/api/users/2').set('x-request-id', 'planted-1');
    expect(planted.status).toBe(200);
    expect(planted.body.name).toBe('Ada Lovelace');

    const diff = await eventually(async () => {
      const res = await request(facade.url).get('/_strangler/diffs').query({ context: 'users' }).set(auth);
      expect(res.status).toBe(200);
      const found = res.body.items.find((d: { requestId: string }) => d.requestId === 'planted-1');
      expect(found).toBeDefined();
      return found;
    }, 5_000);
    expect(diff).toMatchObject({ context: 'users', route: '* /api/users/:id', method: 'GET', path: '/api/users/2', monolithStatus: 200, serviceStatus: 200 });
    expect(diff.diffs).toEqual([expect.objectContaining({ path: '$.name', monolith: 'Ada Lovelace', service: 'Ada L.' })]);
    expect(diff.ignored).toEqual(expect.arrayContaining(['$.createdAt', '$.updatedAt']));

    await eventually(async () => {
      const s = await status();
      expect(s.shadow.compared).toBeGreaterThanOrEqual(2);
      expect(s.shadow.matched).toBeGreaterThanOrEqual(1);
      expect(s.shadow.diffs).toBeGreaterThanOrEqual(1);
      expect(s.shadow.diffRate).toBeGreaterThan(0);
      expect(s.shadow.sampleRate).toBe(100);
    }, 5_000);
  });

  it('mirrors writes as dry runs: the monolith has the row, the service database has none', async () => {
    const res = await request(facade.url).post('/api/users').send({ email: 'shadow-write@example.com', name: 'Shadow Writer' });
    expect(res.status).toBe(201);
    expect(res.headers['x-strangler-upstream']).toBe('monolith');
    await eventually(async () => expect((await status()).shadow.compared).toBeGreaterThanOrEqual(3), 5_000);
    const [m] = await monolith.sequelize.query("SELECT count(*)::int AS n FROM users WHERE email = 'shadow-write@example.com'");
    const [s] = await users.sequelize.query("SELECT count(*)::int AS n FROM users WHERE email = 'shadow-write@example.com'");
    expect((m[0] as { n: number }).n).toBe(1);
    expect((s[0] as { n: number }).n).toBe(0);
    // The dry run answered like the monolith (201, same body but the id and clocks, which the plan ignores for POST).
    const diffs = await request(facade.url).get('/_strangler/diffs').query({ context: 'users' }).set(auth);
    expect(diffs.body.items.filter((d: { method: string }) => d.method === 'POST')).toEqual([]);
  });

  it('redacts configured fields in stored diffs', async () => {
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('secret@example.com', 'Secret')");
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('other-secret@example.com', 'Secret')");
    const [[{ id }]] = (await monolith.sequelize.query("SELECT id FROM users WHERE email = 'secret@example.com'")) as [{ id: number }[], unknown];
    await request(facade.url).get(`/api/users/${id}`).set('x-request-id', 'redact-1');
    const diff = await eventually(async () => {
      const res = await request(facade.url).get('/_strangler/diffs').query({ context: 'users' }).set(auth);
      const found = res.body.items.find((d: { requestId: string }) => d.requestId === 'redact-1');
      expect(found).toBeDefined();
      return found;
    }, 5_000);
    expect(JSON.stringify(diff)).not.toContain('secret@example.com');
    expect(diff.diffs).toEqual(expect.arrayContaining([expect.objectContaining({ path: '$.email', monolith: '[redacted]', service: '[redacted]' })]));
  });
});

describe('facade shadow noise learning', () => {
  let monolith: RunningServer;
  let service: RunningServer;
  let unleash: TestUnleash;
  let facade: TestFacade;

  // Both sides answer with a per-call nonce and a stable value; the service is otherwise identical.
  const clock = (): http.RequestListener => (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ nonce: Math.random().toString(36), value: 42 }));
  };

  beforeAll(async () => {
    [monolith, service, unleash] = await Promise.all([listen(clock(), 0), listen(clock(), 0), startTestUnleash()]);
    const plan = parsePlan(`
version: 1
monolith: { url: "${monolith.url}", database: monolith }
contexts:
  clock:
    service: { url: "${service.url}", database: clock }
    routes: ["GET /api/clock"]
    shadow: { noiseSampleRate: 1 }
`);
    facade = await startTestFacade({ plan, unleash });
    await applyStage(new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken }), 'clock', 'shadow');
    await eventually(() => expect(facade.facade.flags.state('clock').stage).toBe('shadow'), 2_000, 50);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([monolith?.close(), service?.close(), unleash?.stop()]);
  });

  it('learns a field that differs between two calls of the monolith and reports it as noise, not a diff', async () => {
    for (let i = 0; i < 5; i++) expect((await request(facade.url).get('/api/clock')).status).toBe(200);
    await eventually(async () => {
      const res = await request(facade.url).get('/_strangler/status').set(auth);
      const ctx = res.body.contexts.find((c: { name: string }) => c.name === 'clock');
      expect(ctx.shadow.compared).toBe(5);
      expect(ctx.shadow.matched).toBe(5);
      expect(ctx.shadow.diffs).toBe(0);
    }, 5_000);
    expect([...facade.facade.shadower.noise.noiseFor('GET /api/clock')]).toEqual(['$.nonce']);
  });
});

describe('facade shadow slots', () => {
  let monolith: RunningServer;
  let service: RunningServer;
  let unleash: TestUnleash;
  let facade: TestFacade;
  /** While true the monolith resets every connection: the monolith leg of a shadowed request fails. */
  let monolithDown = true;

  const answer: http.RequestListener = (req, res) => {
    if (monolithDown && req.headers['x-strangler-shadow'] === undefined) {
      req.socket.destroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end('{"value":42}');
  };

  beforeAll(async () => {
    [monolith, service, unleash] = await Promise.all([listen(answer, 0), listen(answer, 0), startTestUnleash()]);
    const plan = parsePlan(`
version: 1
monolith: { url: "${monolith.url}", database: monolith }
contexts:
  clock:
    service: { url: "${service.url}", database: clock }
    routes: ["* /api/clock"]
    shadow: { writes: dryRun }
`);
    facade = await startTestFacade({ plan, unleash, env: { SHADOW_CONCURRENCY: '2' } });
    await applyStage(new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken }), 'clock', 'shadow');
    await eventually(() => expect(facade.facade.flags.state('clock').stage).toBe('shadow'), 2_000, 50);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([monolith?.close(), service?.close(), unleash?.stop()]);
  });

  const compared = async () => {
    const res = await request(facade.url).get('/_strangler/status').set(auth);
    return res.body.contexts.find((c: { name: string }) => c.name === 'clock').shadow.compared as number;
  };

  it('gives a shadow slot back when the monolith leg fails, so comparisons go on after more failures than the cap', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await request(facade.url).get('/api/clock');
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 503, code: 'upstream_unavailable' });
    }
    monolithDown = false;
    expect((await request(facade.url).get('/api/clock')).status).toBe(200);
    await eventually(async () => expect(await compared()).toBeGreaterThanOrEqual(1), 5_000);
  });

  it('answers a shadowed write whose chunked body never finishes with a JSON 408 at the upstream timeout', async () => {
    const res = await rawExchange(facade.facade.server.port, head('POST', '/api/clock', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }) + '5\r\n{"a":\r\n');
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'request_timeout', message: 'the request body did not arrive within 3000 ms' } });
    // The slot was never taken, or was given back: the next write is compared.
    const before = await compared();
    expect((await request(facade.url).post('/api/clock').send({ a: 1 })).status).toBe(200);
    await eventually(async () => expect(await compared()).toBe(before + 1), 5_000);
  });
});
