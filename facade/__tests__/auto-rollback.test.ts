import request from 'supertest';
import { UnleashAdminClient } from '../../lib/unleash/admin-client';
import { applyStage, readStage } from '../../lib/unleash/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(120_000);

describe('automatic rollback', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada')");
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    facade = await startTestFacade({
      plan: testPlan({ monolith: monolith.server.url, users: users.server.url }),
      unleash,
      env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken },
    });
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('canary'), 5_000);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop().catch(() => undefined)]);
  });

  it('flips a failing canary back to shadow through Unleash, and says when and why', async () => {
    await users.server.close();
    let served = 0;
    for (let i = 0; i < 150 && facade.facade.flags.state('users').stage === 'canary'; i++) {
      const res = await request(facade.url).get('/api/users/1').set('x-user-id', `user-${i}`);
      // Reads never fail the user while this happens: the monolith answers for the dead service.
      expect(res.status).toBe(200);
      served += 1;
    }
    expect(served).toBeGreaterThanOrEqual(50);
    await eventually(async () => expect((await readStage(admin, 'users')).stage).toBe('shadow'), 5_000);
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 3_000);
    const status = await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    const ctx = status.body.contexts.find((c: { name: string }) => c.name === 'users');
    expect(ctx.lastRollback).toMatchObject({ context: 'users', from: { stage: 'canary', percent: 50 }, to: { stage: 'shadow' }, reason: expect.stringMatching(/service error rate 100\.0% \(\d+\/\d+ requests in 60s\) > 5\.0%/) });
    const metrics = await request(facade.url).get('/_strangler/metrics');
    expect(metrics.text).toMatch(/strangler_auto_rollbacks_total\{context="users"\} 1/);
  });
});
