import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../facade/testing';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { runCli, tempStackHome } from '../../test/harness/cli';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { LatencyHistogram } from '../load/latency';
import { startLoad } from '../load/runner';
import { OpenLoopScheduler } from '../load/scheduler';
import type { LoadSummary } from '../load/stats';
import { planTargets, Workload } from '../load/workload';
import { loadPlan } from '../../control/plan';

jest.setTimeout(120_000);

const WRITE_ROUTES = ['POST /api/orders', 'PATCH /api/users/:id', 'POST /api/users'];
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('strangler load against a running facade, Unleash, monolith and users service', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService()]);
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    facade = await startTestFacade({ plan: testPlan({ monolith: monolith.server.url, users: users.server.url }), unleash });
    // Real keys for the reads: a few users in the monolith before any run.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${monolith.server.url}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `seed-${i}@example.test`, name: `Seed ${i}` }) });
      expect(res.status).toBe(201);
    }
    env = {
      MONOLITH_DATABASE: monolith.db.url,
      STRANGLER_HOME: tempStackHome(),
      STRANGLER_FACADE_URL: facade.url,
      STRANGLER_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      UNLEASH_URL: unleash.url,
      UNLEASH_ADMIN_TOKEN: unleash.adminToken,
    };
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  const shop = () => {
    const plan = testPlan({ monolith: monolith.server.url, users: users.server.url });
    return { facadeUrl: facade.url, plan, contexts: Object.keys(plan.contexts), monolithDatabaseUrl: monolith.db.url };
  };

  async function cli(args: string[], extraEnv: Record<string, string> = {}) {
    const run = runCli(args, { ...env, ...extraEnv });
    const { code } = await run.exited();
    return { code, out: run.output() };
  }

  async function loadJson(): Promise<LoadSummary> {
    const { code, out } = await cli(['load', '--rps', '50', '--duration', '3', '--users', '5', '--json']);
    expect({ code, out }).toMatchObject({ code: 0 });
    return JSON.parse(out) as LoadSummary;
  }

  function expectConsistent(s: LoadSummary): void {
    expect(s.requests).toBeGreaterThan(0);
    expect(sum(s.byUpstream)).toBe(s.requests);
    expect(sum(s.byStatusClass)).toBe(s.requests);
    expect(Object.values(s.byRoute).reduce((a, r) => a + r.requests, 0)).toBe(s.requests);
    expect(s.errors.total).toBe(s.errors.network + s.errors.server);
    const { p50, p95, p99, max } = s.latencyMs;
    for (const v of [p50, p95, p99, max]) expect(typeof v).toBe('number');
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(p99).toBeLessThanOrEqual(max);
  }

  it('--json: mixed traffic through the facade lands on the monolith, and the counts add up', async () => {
    const s = await loadJson();
    expectConsistent(s);
    expect(s.target).toEqual({ rps: 50, durationSec: 3, actors: 5, contexts: ['notifications', 'payments', 'users', 'orders'] });
    // Reads take real ids from the monolith's tables (and from the rows the run creates).
    expect(s.keys['users.id']).toBeGreaterThanOrEqual(5);
    expect(s.skipped).toEqual(['POST /api/orders/:id/cancel: a write needs an example body under contexts.orders.load.examples']);
    expect(Object.keys(s.byUpstream)).toEqual(['monolith']);
    expect(s.errors).toMatchObject({ total: 0, top: [] });
    expect(s.fallbacks).toBe(0);
    // Reads of the users' own data dominate; writes are part of the mix.
    expect(Object.keys(s.byRoute)).toEqual(expect.arrayContaining(['GET /api/users/:id', 'POST /api/orders']));
    expect(s.byStatusClass['2xx']).toBeGreaterThan(0);
  });

  it('after the users context is cut over, users traffic goes to the users service and the rest stays on the monolith', async () => {
    await applyStage(admin, 'users', 'cutover');
    try {
      await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('cutover'), 5_000);
      const s = await loadJson();
      expectConsistent(s);
      expect(s.byUpstream.users).toBeGreaterThan(0);
      // Orders routes (including GET /api/users/:id/orders) belong to the orders context, still on the monolith.
      expect(s.byUpstream.monolith).toBeGreaterThan(0);
      expect(Object.keys(s.byUpstream).sort()).toEqual(['monolith', 'users']);
    } finally {
      await applyStage(admin, 'users', 'monolith');
      await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('monolith'), 5_000);
    }
  });

  it('piped, prints a readable summary and no progress line', async () => {
    const { code, out } = await cli(['load', '--rps', '20', '--duration', '1', '--users', '2']);
    expect(code).toBe(0);
    expect(out).not.toContain('\r');
    expect(out).toMatch(/^load through http:\/\/127\.0\.0\.1:\d+ on notifications, payments, users, orders: target 20 rps for 1 s, as 2 sticky users\n/);
    expect(out).toMatch(/\nkeys: .*users\.id \d+/);
    expect(out).toMatch(/\nupstream +requests +share\n/);
    expect(out).toMatch(/\nmonolith +\d+ +100\.0%\n/);
    expect(out).toMatch(/\nlatency {2}p50 [\d.]+ ms {2}p95 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms\n/);
    expect(out).toContain('\nerrors 0 (0.0%): 0 5xx, 0 network\n');
  });

  it.each([
    [['--rps', '0'], 'strangler: --rps must be an integer 1–5000, got "0"'],
    [['--rps', '5001'], 'strangler: --rps must be an integer 1–5000, got "5001"'],
    [['--rps', 'fast'], 'strangler: --rps must be an integer 1–5000, got "fast"'],
    [['--duration', '0'], 'strangler: --duration must be an integer 1–3600, got "0"'],
    [['--duration', '1.5'], 'strangler: --duration must be an integer 1–3600, got "1.5"'],
    [['--users', '10001'], 'strangler: --users must be an integer 1–10000, got "10001"'],
  ])('refuses load %j with one line', async (flags, message) => {
    const { code, out } = await cli(['load', ...flags]);
    expect(code).toBe(1);
    expect(out.trim()).toBe(message);
  });

  it('says in one line when the facade is unreachable', async () => {
    const { code, out } = await cli(['load', '--duration', '1'], { STRANGLER_FACADE_URL: 'http://127.0.0.1:9' });
    expect(code).toBe(1);
    expect(out.trim()).toMatch(/^strangler: cannot reach the facade at http:\/\/127\.0\.0\.1:9: .+$/);
  });

  it('load --help documents the flags', async () => {
    const { code, out } = await cli(['load', '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: strangler load/);
    for (const flag of ['--context', '--rps', '--duration', '--users', '--header', '--token', '--json']) expect(out).toContain(flag);
  });

  it('--context takes only that context\'s routes from the plan', async () => {
    const { code, out } = await cli(['load', '--context', 'users', '--rps', '40', '--duration', '2', '--json']);
    expect(code).toBe(0);
    const s = JSON.parse(out) as LoadSummary;
    expect(s.target.contexts).toEqual(['users']);
    expect(Object.keys(s.byRoute).every((r) => / \/api\/users(\/:id)?$/.test(r))).toBe(true);
    expect(s.errors.total).toBe(0);
  });

  it('refuses an unknown context and a malformed --header in one line', async () => {
    expect(await cli(['load', '--context', 'nope'])).toEqual({ code: 1, out: 'strangler: unknown context "nope"; the plan has: notifications, payments, users, orders\n' });
    expect(await cli(['load', '--header', 'no-colon'])).toEqual({ code: 1, out: 'strangler: --header must look like "Name: value", got "no-colon"\n' });
  });

  it('the runner runs until aborted, sends only reads while writes are paused, and stops sending once aborted', async () => {
    const controller = new AbortController();
    const ticks: number[] = [];
    const run = startLoad({ ...shop(), rps: 40, actors: 3, signal: controller.signal, onTick: (p) => ticks.push(p.sent) });
    await run.pauseWrites();
    expect(run.writesPaused).toBe(true);
    await eventually(() => expect(run.progress().completed).toBeGreaterThanOrEqual(50), 30_000);
    controller.abort();
    const s = await run.done;
    expectConsistent(s);
    expect(s.target.durationSec).toBeNull();
    expect(s.target.actors).toBe(3);
    for (const route of WRITE_ROUTES) expect(s.byRoute[route]).toBeUndefined();
    expect(ticks.length).toBeGreaterThan(0);
    // Nothing is sent after the run ended.
    const sent = run.progress().sent;
    await new Promise((r) => setTimeout(r, 300));
    expect(run.progress().sent).toBe(sent);
    expect(run.progress().completed).toBe(s.requests);
  });

  it('the runner sends writes again after resumeWrites', async () => {
    const controller = new AbortController();
    const run = startLoad({ ...shop(), rps: 50, actors: 2, signal: controller.signal });
    await run.pauseWrites();
    run.resumeWrites();
    await eventually(() => expect(run.progress().completed).toBeGreaterThanOrEqual(60), 30_000);
    controller.abort();
    const s = await run.done;
    expect(WRITE_ROUTES.some((r) => (s.byRoute[r]?.requests ?? 0) > 0)).toBe(true);
  });

  it('pauseWrites resolves once no write is in flight, and from then on the shop\'s data stays still while reads go on', async () => {
    const controller = new AbortController();
    const run = startLoad({ ...shop(), rps: 50, actors: 3, signal: controller.signal });
    const snapshot = async () =>
      (await monolith.sequelize.query('SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders, (SELECT max(updated_at) FROM users) AS touched', { plain: true })) as Record<string, unknown>;
    try {
      await eventually(() => expect(run.progress().completed).toBeGreaterThanOrEqual(30), 30_000);
      await run.pauseWrites();
      const before = await snapshot();
      const completed = run.progress().completed;
      await eventually(() => expect(run.progress().completed).toBeGreaterThanOrEqual(completed + 40), 30_000);
      expect(await snapshot()).toEqual(before);
    } finally {
      controller.abort();
      await run.done;
    }
  });
});

describe('load building blocks', () => {
  it('takes reads from the plan\'s routes with keys from the table a parameter names, and writes only from examples', () => {
    const plan = loadPlan('examples/library/plan.yaml', {});
    const tables = ['books', 'genres', 'book_tags', 'members', 'loans'].map((name) => ({ name, primaryKey: ['id'] }));
    const { targets, skipped } = planTargets(plan, ['lending'], tables);
    expect(targets.map((t) => `${t.route} ${t.write ? 'write' : 'read'}`)).toEqual([
      'POST /api/members write',
      'GET /api/members/:id read',
      'GET /api/members/:id/loans read',
      'POST /api/loans write',
      'GET /api/loans/:id read',
    ]);
    expect(targets.find((t) => t.route === 'GET /api/members/:id/loans')?.params).toEqual({ id: { table: 'members', column: 'id' } });
    expect(skipped).toEqual(['POST /api/loans/:id/return: a write needs an example body under contexts.lending.load.examples']);

    const w = new Workload('run1', targets, 3, () => 0);
    // Without keys only the creates can go; a create's id feeds the reads.
    expect(w.runnable.map((t) => t.route)).toEqual(['POST /api/members']);
    const create = w.next(true)!;
    expect(create.body).toEqual({ fullName: 'Load Member 1', email: 'load-run1-1@library.test' });
    w.observe(create, 201, { id: 'm-1' });
    w.addKeys({ table: 'books', column: 'id' }, ['b-1']);
    const loan = w.build(targets.find((t) => t.route === 'POST /api/loans')!);
    expect(loan.body).toEqual({ bookId: 'b-1', memberId: 'm-1' });
    expect(w.build(targets.find((t) => t.route === 'GET /api/members/:id/loans')!).path).toBe('/api/members/m-1/loans');
    // Paused writes: reads only.
    for (let i = 0; i < 20; i++) expect(w.next(false)!.write).toBe(false);
  });

  it('the open loop drops due requests at the in-flight cap instead of waiting for answers', async () => {
    const release: (() => void)[] = [];
    const scheduler = new OpenLoopScheduler({ rps: 100, durationMs: 300, maxInFlight: 2, fire: () => new Promise<void>((r) => release.push(r)) });
    scheduler.start();
    await new Promise((r) => setTimeout(r, 600));
    expect({ sent: scheduler.sent, dropped: scheduler.dropped, active: scheduler.active }).toEqual({ sent: 2, dropped: 28, active: 2 });
    let finished = false;
    void scheduler.done.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toBe(false);
    for (const r of release) r();
    await scheduler.done;
    expect(scheduler.active).toBe(0);
  });

  it('latency percentiles are within 1 % of the exact ones and never above the maximum', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i += 1) h.record(i / 10);
    const s = h.summary();
    expect(s.p50).toBeGreaterThanOrEqual(50 * 0.99);
    expect(s.p50).toBeLessThanOrEqual(50 * 1.01);
    expect(s.p99).toBeGreaterThanOrEqual(99 * 0.99);
    expect(s.p99).toBeLessThanOrEqual(99 * 1.01);
    expect(s.max).toBe(100);
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
  });
});
