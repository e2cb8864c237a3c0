import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';
import { startCdcStub, type CdcStub } from '../../control/__tests__/cdc-stub';

jest.setTimeout(120_000);

/**
 * The gates of the next move count the service's requests at the current stage only. A CLI stage move returns once
 * the facade serves the new stage and may read the gates' counts at once: they must be the new stage's then, not
 * a second later (a demo re-advanced to cutover on the old stage's count and was refused on the gate's 4 requests).
 */
describe("the service's request window starts with the stage the facade serves", () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;
  let cdc: CdcStub;

  beforeAll(async () => {
    [unleash, monolith, users, cdc] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService(), startCdcStub()]);
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada')");
    await users.sequelize.query("INSERT INTO users (id, email, full_name) VALUES (1, 'ada@example.com', 'Ada')");
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    facade = await startTestFacade({
      plan: testPlan({ monolith: monolith.server.url, users: users.server.url }),
      unleash,
      env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken, STRANGLER_CDC_URL: cdc.url },
    });
    await eventually(() => expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 }), 5_000);
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop(), cdc?.close()]);
  });

  const serviceRequests = async (): Promise<number> => {
    const res = await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    return res.body.contexts.find((c: { name: string }) => c.name === 'users').service.requests;
  };

  it('is empty as soon as the facade serves a new stage', async () => {
    for (let i = 0; i < 60; i++) expect((await request(facade.url).get('/api/users/1').set('x-user-id', `user-${i}`)).status).toBe(200);
    expect(await serviceRequests()).toBeGreaterThan(5);

    await applyStage(admin, 'users', 'cutover', 100);
    // Read the count in the same turn the facade's flags show the new stage, as a CLI right after a move would.
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('cutover'), 10_000, 2);
    expect(await serviceRequests()).toBe(0);

    const res = await request(facade.url).get('/api/users/1').set('x-user-id', 'user-0');
    expect(res.status).toBe(200);
    expect(await serviceRequests()).toBe(1);
  });
});
