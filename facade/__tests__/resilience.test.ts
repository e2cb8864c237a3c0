import net from 'node:net';
import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, type TestFacade } from '../testing';

jest.setTimeout(120_000);

describe('facade failure isolation', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada')");
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('ada@example.com', 'Ada')");
    const admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    await applyStage(admin, 'payments', 'retired');
  });
  afterAll(async () => {
    await facade?.destroy().catch(() => undefined);
    await Promise.all([unleash?.stop().catch(() => undefined), monolith?.stop(), users?.stop().catch(() => undefined)]);
  });

  it('with no flags known at all, everything goes to the monolith and health says degraded', async () => {
    const blind = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url, users: users.server.url }) });
    try {
      const res = await request(blind.url).get('/api/users/1').set('x-user-id', 'anyone');
      expect(res.headers['x-strangler-upstream']).toBe('monolith');
      const health = await request(blind.url).get('/_strangler/health');
      expect(health.body.status).toBe('degraded');
      expect(health.body.unleash.state).toBe('none');
    } finally {
      await blind.destroy();
    }
  });

  describe('with flags from Unleash', () => {
    // Users on the service side at 50 %, found once and reused.
    let serviceUser: string;

    beforeAll(async () => {
      facade = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url, users: users.server.url, payments: 'http://127.0.0.1:9' }), unleash });
      await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('canary'), 5_000);
      for (let i = 0; ; i++) {
        const res = await request(facade.url).get('/api/users/1').set('x-user-id', `u${i}`);
        if (res.headers['x-strangler-upstream'] === 'users') {
          serviceUser = `u${i}`;
          break;
        }
      }
    });

    it('keeps routing when Unleash goes away, and restores the last state on a restart while it is down', async () => {
      await unleash.stop();
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await request(facade.url).get('/api/users/1').set('x-user-id', serviceUser)).headers['x-strangler-upstream']).toBe('users');

      const { db, backupDir } = facade;
      await facade.stop();
      facade = await startTestFacade({
        plan: testPlan({ monolith: monolith.server.url, users: users.server.url, payments: 'http://127.0.0.1:9' }),
        unleash: { url: unleash.url, clientToken: unleash.clientToken },
        db,
        backupDir,
      });
      // Known before the first request is taken: no waiting for the backup to be read.
      expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 });
      const res = await request(facade.url).get('/api/users/1').set('x-user-id', serviceUser);
      expect(res.headers['x-strangler-upstream']).toBe('users');
      const health = await request(facade.url).get('/_strangler/health');
      expect(health.body.unleash.state).toBe('stale');
    });

    it('a body shorter than its Content-Length is the client\'s fault: 408 request_timeout, nothing counted against the service', async () => {
      const before = facade.facade.outcomes.total('users');
      const { port } = new URL(facade.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`POST /api/users HTTP/1.1\r\nHost: x\r\nx-user-id: ${serviceUser}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{}`);
        });
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 408 /);
      expect(head).toMatch(/x-strangler-upstream: users/i);
      expect(JSON.parse(body).error.code).toBe('request_timeout');
      expect(facade.facade.outcomes.total('users')).toEqual(before);
    });

    it('a dead service: reads fall back to the monolith, writes get 503 upstream_unavailable, never a blind retry', async () => {
      await users.server.close();
      const read = await request(facade.url).get('/api/users/1').set('x-user-id', serviceUser);
      expect(read.status).toBe(200);
      expect(read.headers).toMatchObject({ 'x-strangler-upstream': 'monolith', 'x-strangler-fallback': '1' });
      const write = await request(facade.url).post('/api/users').set('x-user-id', serviceUser).send({ email: 'new@example.com', name: 'New' });
      expect(write.status).toBe(503);
      expect(write.body.error.code).toBe('upstream_unavailable');
      expect(Number(write.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const [rows] = await monolith.sequelize.query("SELECT count(*)::int AS n FROM users WHERE email = 'new@example.com'");
      expect((rows[0] as { n: number }).n).toBe(0);
      // Enough failures open the breaker: the status says so and reads still work.
      for (let i = 0; i < 10; i++) await request(facade.url).get('/api/users/1').set('x-user-id', serviceUser);
      const status = await request(facade.url).get('/_strangler/status').set('authorization', 'Bearer test-admin-token-0123456789');
      expect(status.body.contexts.find((c: { name: string }) => c.name === 'users').breaker).toBe('open');
      expect((await request(facade.url).get('/api/users/1').set('x-user-id', serviceUser)).headers['x-strangler-fallback']).toBe('1');
    });

    it('a retired context has no fallback', async () => {
      const res = await request(facade.url).get('/api/payments/1');
      expect(res.headers['x-strangler-upstream']).toBe('payments');
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('upstream_unavailable');
    });
  });
});
