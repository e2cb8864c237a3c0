import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage, readStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';
import { startCdcStub, type CdcStub } from '../../control/__tests__/cdc-stub';

jest.setTimeout(120_000);

describe('automatic rollback', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;
  let cdc: CdcStub;
  const syncs: { direction: string; timeoutMs: number; stageThen: string }[] = [];

  beforeAll(async () => {
    [unleash, monolith, users, cdc] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService(), startCdcStub()]);
    // A reverse pipeline that never catches up: the rollback must wait for it (bounded) and go back anyway.
    cdc.onSync = async (context, direction, timeoutMs) => {
      syncs.push({ direction, timeoutMs, stageThen: (await readStage(admin, context)).stage });
      return { caughtUp: false, waitedMs: timeoutMs, lsn: '0/1' };
    };
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada')");
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    facade = await startTestFacade({
      plan: testPlan({ monolith: monolith.server.url, users: users.server.url }),
      unleash,
      env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken, STRANGLER_CDC_URL: cdc.url },
    });
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('canary'), 5_000);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop().catch(() => undefined), cdc?.close()]);
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
    // The record is kept once the move (flags, then history) is complete, a moment after the flags flip.
    await eventually(async () => {
      const status = await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
      const ctx = status.body.contexts.find((c: { name: string }) => c.name === 'users');
      expect(ctx.lastRollback).toMatchObject({ context: 'users', from: { stage: 'canary', percent: 50 }, to: { stage: 'shadow' }, reason: expect.stringMatching(/service error rate 100\.0% \(\d+\/\d+ requests in 60s\) > 5\.0%/) });
    }, 3_000);
    const metrics = await request(facade.url).get('/_strangler/metrics');
    expect(metrics.text).toMatch(/strangler_auto_rollbacks_total\{context="users"\} 1/);
  });

  it('waited for read-your-writes like a manual rollback: bounded, before the flip, and not blocked by it', () => {
    expect(syncs).toEqual([{ direction: 'reverse', timeoutMs: 10_000, stageThen: 'canary' }]);
  });

  it('is in the stage history as auto-rollback, with its reason', async () => {
    const res = await request(facade.url).get('/_strangler/history?context=users').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      context: 'users',
      actor: 'auto-rollback',
      from: { stage: 'canary', percent: 50 },
      to: { stage: 'shadow', percent: 0 },
      forced: false,
      gates: [],
      reason: expect.stringMatching(/^service error rate 100\.0%/),
    });
  });
});
