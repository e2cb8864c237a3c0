import request from 'supertest';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(60_000);

/** The admin API's observability endpoints against a real facade and monolith (no Unleash: every context on the monolith). */
describe('GET /_strangler/series, /gates and /diffs/groups', () => {
  let monolith: TestMonolith;
  let facade: TestFacade;
  const admin = (path: string) => request(facade.url).get(path).set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);

  beforeAll(async () => {
    monolith = await startTestMonolith();
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('s@example.com', 'S')");
    facade = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url }), env: { SERIES_RESOLUTION_SECONDS: '1' } });
  });
  afterAll(async () => {
    await facade?.destroy();
    await monolith?.stop();
  });

  it('keeps a point per second per context without anyone asking, with the requests each side answered', async () => {
    const started = new Date().toISOString();
    for (let i = 0; i < 7; i++) expect((await request(facade.url).get('/api/users/1')).status).toBe(200);
    await eventually(async () => {
      const res = await admin(`/_strangler/series?context=users&since=${encodeURIComponent(started)}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ context: 'users', resolutionSeconds: 1, retentionSeconds: 21600 });
      const points = res.body.points as { at: string; stage: string; requests: { monolith: number; service: number }; serviceShare: number | null }[];
      expect(points.reduce((n, p) => n + p.requests.monolith, 0)).toBe(7);
      expect(points.every((p) => p.stage === 'monolith' && p.requests.service === 0 && Date.parse(p.at) > Date.parse(started))).toBe(true);
      expect(points.filter((p) => p.requests.monolith > 0).every((p) => p.serviceShare === 0)).toBe(true);
    }, 10_000, 200);
    // Epoch milliseconds work too; a time in the future has no points yet.
    const all = (await admin('/_strangler/series?context=users&since=0')).body.points as { at: string }[];
    expect(all.length).toBeGreaterThan(0);
    expect((await admin(`/_strangler/series?context=users&since=${Date.now() + 60_000}`)).body.points).toEqual([]);
    const orders = (await admin('/_strangler/series?context=orders')).body.points as { requests: { monolith: number } }[];
    expect(orders.every((p) => p.requests.monolith === 0)).toBe(true);
  });

  it.each([
    ['/_strangler/series', 400, 'validation_failed', /context: required/],
    ['/_strangler/series?context=nope', 404, 'unknown_context', /unknown context "nope"/],
    ['/_strangler/series?context=users&since=yesterday', 400, 'validation_failed', /since: must be an ISO 8601 time/],
    ['/_strangler/series?context=users&context=orders', 400, 'validation_failed', /context/],
    ['/_strangler/gates?context=nope', 404, 'unknown_context', /unknown context "nope"/],
    ['/_strangler/diffs/groups', 400, 'validation_failed', /context: required/],
    ['/_strangler/diffs/groups?context=nope', 404, 'unknown_context', /unknown context "nope"/],
    ['/_strangler/diffs/groups?context=users&examples=0', 400, 'validation_failed', /examples/],
  ])('GET %s is a %i %s', async (path, status, code, message) => {
    const res = await admin(path);
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('needs the admin token', async () => {
    for (const path of ['/_strangler/series?context=users', '/_strangler/gates', '/_strangler/diffs/groups?context=users']) {
      expect((await request(facade.url).get(path)).status).toBe(401);
    }
  });

  it('names the next stage and its gates with their numbers before any advance', async () => {
    const res = await admin('/_strangler/gates');
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { context: string }) => i.context)).toEqual(['notifications', 'payments', 'users', 'orders']);
    expect((await admin('/_strangler/gates?context=users')).body.items).toEqual([
      {
        context: 'users',
        from: { stage: 'monolith', percent: 0 },
        to: { stage: 'shadow', percent: 0 },
        gates: [
          { gate: 'forward.streaming', pass: false, detail: 'pipeline users-forward is absent' },
          { gate: 'forward.lag', pass: false, detail: 'pipeline users-forward lag unknown (max 5000 ms)' },
        ],
      },
    ]);
  });

  it('groups no diffs into nothing', async () => {
    expect((await admin('/_strangler/diffs/groups?context=users')).body).toEqual({ context: 'users', compared: 0, diffs: 0, errors: 0, routes: [], noise: [] });
  });
});
