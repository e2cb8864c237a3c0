import { createHmac } from 'node:crypto';
import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(120_000);

const SECRET = 'app-secret-for-tests';
const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** What a RealWorld-style Express app sends: `Authorization: Token <jwt>` with the user inside the payload. */
const token = (claims: object, secret = SECRET) => {
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `Token ${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
};

describe('stickiness from the plan at a 50 % canary (real Unleash, monolith and users service)', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    const plan = testPlan({ monolith: monolith.server.url, users: users.server.url });
    plan.stickiness = {
      from: [{ header: 'x-account' }, { cookie: 'sid' }, { jwt: { claim: 'user.id', schemes: ['Token'], secret: SECRET } }],
      fallback: 'none',
    };
    facade = await startTestFacade({ plan, unleash });
    await applyStage(new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken }), 'users', 'canary', 50);
    await eventually(() => expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 }), 5_000, 50);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  /** Each of 60 users asks three times: always the same side, and both sides get some users. */
  async function shareOnService(headersOf: (i: number) => Record<string, string>): Promise<number> {
    let onService = 0;
    for (let i = 0; i < 60; i++) {
      const sides = new Set<string>();
      for (let k = 0; k < 3; k++) sides.add((await request(facade.url).get('/api/users').set(headersOf(i))).headers['x-strangler-upstream']);
      expect(sides.size).toBe(1);
      if (sides.has('users')) onService += 1;
    }
    return onService / 60;
  }

  it.each([
    ['a header', (i: number) => ({ 'x-account': `acc-${i}` })],
    ['a cookie', (i: number) => ({ cookie: `theme=dark; sid=session-${i}` })],
    ['the user.id claim of a Token JWT', (i: number) => ({ authorization: token({ user: { id: 1000 + i, username: `u${i}` } }) })],
  ])('keeps each user on one side by %s and puts a share of users on the service', async (_what, headersOf) => {
    const share = await shareOnService(headersOf);
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.8);
  });

  it('status shows the share of routed requests that had no sticky user', async () => {
    const before = (await request(facade.url).get('/_strangler/status').set({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).body.contexts.find(
      (c: { name: string }) => c.name === 'users',
    ).stickiness;
    expect(before).toEqual({ requests: 540, withoutUser: 0, withoutUserShare: 0, fallback: 'none' });
    // No source yields a user: no header, a token under the wrong scheme, a token with a wrong signature.
    await request(facade.url).get('/api/users');
    await request(facade.url).get('/api/users').set('authorization', token({ user: { id: 1 } }).replace('Token', 'Bearer'));
    await request(facade.url).get('/api/users').set('authorization', token({ user: { id: 1 } }, 'guessed'));
    await request(facade.url).get('/health');
    const after = (await request(facade.url).get('/_strangler/status').set({ authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).body.contexts.find(
      (c: { name: string }) => c.name === 'users',
    ).stickiness;
    expect(after).toEqual({ requests: 543, withoutUser: 3, withoutUserShare: 3 / 543, fallback: 'none' });
  });
});
