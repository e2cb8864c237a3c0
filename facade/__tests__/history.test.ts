import request from 'supertest';
import { UNLEASH_REASON } from '../../control/history/flag-watch';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(120_000);

describe('stage history (real Unleash, the facade records moves and changes made in Unleash)', () => {
  let unleash: TestUnleash;
  let facade: TestFacade;
  let admin: UnleashAdminClient;
  const bearer = `Bearer ${TEST_ADMIN_TOKEN}`;
  const history = async (query = '') => (await request(facade.url).get(`/_strangler/history${query}`).set('authorization', bearer)).body.items as Record<string, unknown>[];
  /** Waits until the facade has seen the stage and looked at the change (so a wrongly recorded extra entry would show). */
  const seen = async (stage: string) => {
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe(stage), 5_000, 50);
    await facade.facade.flagChanges.idle();
  };

  beforeAll(async () => {
    unleash = await startTestUnleash();
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    await applyStage(admin, 'users', 'shadow');
    facade = await startTestFacade({ plan: testPlan({ monolith: 'http://127.0.0.1:9' }), unleash, env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken } });
    await seen('shadow');
  });
  afterAll(async () => {
    await facade?.destroy();
    await unleash?.stop();
  });

  it('starts empty: the stage the facade found at start-up is no move', async () => {
    expect(await history()).toEqual([]);
  });

  it('records an admin API call (Bearer) as api', async () => {
    const res = await request(facade.url).post('/_strangler/contexts/users/rollback').set('authorization', bearer).send({ reason: 'scripted rollback' });
    expect(res.status).toBe(200);
    await seen('monolith');
    expect(await history('?context=users')).toEqual([
      expect.objectContaining({ context: 'users', actor: 'api', from: { stage: 'shadow', percent: 0 }, to: { stage: 'monolith', percent: 0 }, reason: 'scripted rollback', forced: false, gates: [] }),
    ]);
  });

  it('records a dashboard button (session cookie) as dashboard, with the gates and --force', async () => {
    const login = await request(facade.url).post('/_strangler/login').type('form').send({ token: TEST_ADMIN_TOKEN });
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0].split(';')[0];
    const res = await request(facade.url).post('/_strangler/contexts/users/advance').set('cookie', cookie).set('x-strangler-csrf', '1').send({ force: true });
    expect(res.status).toBe(200);
    await seen('shadow');
    const [latest] = await history('?context=users');
    expect(latest).toMatchObject({ actor: 'dashboard', from: { stage: 'monolith' }, to: { stage: 'shadow' }, forced: true, reason: null });
    expect(latest.gates).toEqual([
      { stage: 'shadow', gate: 'forward.streaming', pass: false, detail: 'pipeline users-forward is absent' },
      { stage: 'shadow', gate: 'forward.lag', pass: false, detail: 'pipeline users-forward lag unknown (max 5000 ms)' },
    ]);
  });

  it('records a flag flipped directly in Unleash as unleash, once', async () => {
    await applyStage(admin, 'users', 'canary', 30);
    await eventually(async () => expect((await history('?context=users'))[0]).toMatchObject({ actor: 'unleash', from: { stage: 'shadow', percent: 0 }, to: { stage: 'canary', percent: 30 }, reason: UNLEASH_REASON, gates: [] }), 10_000, 100);
    await seen('canary');
    expect((await history()).map((e) => e.actor)).toEqual(['unleash', 'dashboard', 'api']);
  });

  it.each([
    ['?context=nope', 404, 'unknown_context'],
    ['?limit=0', 400, 'validation_failed'],
  ])('answers %s with %i %s', async (query, status, code) => {
    const res = await request(facade.url).get(`/_strangler/history${query}`).set('authorization', bearer);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('needs the admin token', async () => {
    expect((await request(facade.url).get('/_strangler/history')).status).toBe(401);
  });
});
