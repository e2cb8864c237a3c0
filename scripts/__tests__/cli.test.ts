import { UnleashAdminClient } from '../../control/flags/admin-client';
import { readStage } from '../../control/flags/stage-flags';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../facade/testing';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { runCli, tempStackHome } from '../../test/harness/cli';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startCdcStub } from '../../control/__tests__/cdc-stub';

jest.setTimeout(120_000);

describe('strangler CLI against a running facade and Unleash', () => {
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
    env = {
      STRANGLER_HOME: tempStackHome(),
      STRANGLER_FACADE_URL: facade.url,
      STRANGLER_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      UNLEASH_URL: unleash.url,
      UNLEASH_ADMIN_TOKEN: unleash.adminToken,
      STRANGLER_FACADE_DATABASE_URL: facade.db.url,
      USERS_URL: users.server.url,
      MONOLITH_URL: monolith.server.url,
    };
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  async function cli(...args: string[]) {
    const run = runCli(args, env);
    const { code } = await run.exited();
    return { code, out: run.output() };
  }

  it('status --json lists every context of the plan with its stage and next gates', async () => {
    const { code, out } = await cli('status', '--json');
    expect(code).toBe(0);
    const body = JSON.parse(out);
    expect(body.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['notifications', 'orders', 'payments', 'users']);
    const u = body.contexts.find((c: { name: string }) => c.name === 'users');
    expect(u).toMatchObject({ stage: 'monolith', percent: 0, breaker: 'closed', next: { stage: 'shadow', gates: expect.any(Array) } });
    expect(u.next.gates.map((g: { gate: string }) => g.gate)).toEqual(['forward.streaming', 'forward.lag']);
  });

  it('stage refuses a forward move whose gate fails, naming the gate and its numbers; --force moves anyway', async () => {
    const refused = await cli('stage', 'users', 'shadow');
    expect(refused.code).toBe(2);
    expect(refused.out.trim()).toBe(
      'strangler: refusing users → shadow: gate forward.streaming failed: pipeline users-forward is absent; gate forward.lag failed: pipeline users-forward lag unknown (max 5000 ms) (use --force to override)',
    );
    expect((await readStage(admin, 'users')).stage).toBe('monolith');

    const forced = await cli('stage', 'users', 'shadow', '--force', '--json', '--reason', 'workshop: no CDC worker');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.out)).toMatchObject({ context: 'users', from: { stage: 'monolith' }, to: { stage: 'shadow' }, direction: 'forward', forced: true });
    expect((await readStage(admin, 'users')).stage).toBe('shadow');
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 2_000);
  });

  it('advance refuses canary without enough compared requests, with the numbers', async () => {
    const { code, out } = await cli('advance', 'users');
    expect(code).toBe(2);
    expect(out).toContain('gate shadow.compared failed: 0 requests compared (min 100)');
  });

  it('a canary percent goes through --percent; a rollback is never blocked', async () => {
    expect((await cli('stage', 'users', 'canary', '--percent', '30', '--force')).code).toBe(0);
    expect(await readStage(admin, 'users')).toMatchObject({ stage: 'canary', percent: 30 });
    const back = await cli('rollback', 'users', '--json');
    expect(back.code).toBe(0);
    // Rollback steps back through the plan's canary steps (10 %, 50 %) like advance steps forward.
    expect(JSON.parse(back.out)).toMatchObject({ from: { stage: 'canary', percent: 30 }, to: { stage: 'canary', percent: 10 }, direction: 'rollback', gates: [] });
    expect((await cli('rollback', 'users')).code).toBe(0);
    expect((await readStage(admin, 'users')).stage).toBe('shadow');
    expect((await cli('rollback', 'users')).code).toBe(0);
    expect((await readStage(admin, 'users')).stage).toBe('monolith');
    const nothing = await cli('rollback', 'users');
    expect(nothing.code).toBe(1);
    expect(nothing.out.trim()).toBe('strangler: users is on the monolith; there is nothing to roll back');
    const same = await cli('stage', 'users', 'monolith');
    expect(same.code).toBe(1);
    expect(same.out.trim()).toBe('strangler: users is already at monolith; nothing to do');
  });

  it('history lists every move made with the CLI, newest first, with the gates, the reason and --force', async () => {
    const { code, out } = await cli('history', 'users', '--json');
    expect(code).toBe(0);
    const { items } = JSON.parse(out);
    expect(items.map((e: { actor: string; to: { stage: string; percent: number } }) => `${e.actor} ${e.to.stage} ${e.to.percent}`)).toEqual([
      'cli monolith 0',
      'cli shadow 0',
      'cli canary 10',
      'cli canary 30',
      'cli shadow 0',
    ]);
    expect(items[4]).toMatchObject({ forced: true, reason: 'workshop: no CDC worker', from: { stage: 'monolith' }, gates: [{ gate: 'forward.streaming', pass: false }, { gate: 'forward.lag', pass: false }] });
    const table = await cli('history');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^at +context +actor +move +gates +force +reason$/m);
    expect(table.out).toMatch(/ users +cli +monolith → shadow +0\/2 pass +forced +workshop: no CDC worker$/m);
  });

  it.each([
    [['stage', 'nope', 'shadow'], 'strangler: unknown context "nope"; the plan has: notifications, payments, users, orders'],
    [['stage', 'users', 'sideways'], 'strangler: unknown stage "sideways": use monolith, shadow, canary, cutover or retired'],
    [['stage', 'users', 'canary', '--percent', '150'], 'strangler: canary percent must be an integer 1–99, got 150'],
    [['stage', 'users', 'canary', '--percent', 'ten'], 'strangler: --percent must be an integer 1–99, got "ten"'],
    [['stage', 'users', 'cutover', '--percent', '10'], 'strangler: --percent only applies to the canary stage'],
    [['diffs', 'users', '--limit', '0'], 'strangler: --limit must be an integer 1–500, got "0"'],
    [['diffs', 'users', '--examples', '2'], 'strangler: --examples only applies with --group'],
    [['diffs', 'users', '--group', '--examples', '0'], 'strangler: --examples must be an integer 1–20, got "0"'],
    [['diffs', 'reset', 'nope'], 'strangler: unknown context "nope"; the plan has: notifications, payments, users, orders'],
    [['history', 'nope'], 'strangler: unknown context "nope"; the plan has: notifications, payments, users, orders'],
    [['advance', 'nope'], 'strangler: unknown context "nope"; the plan has: notifications, payments, users, orders'],
  ])('refuses %j with one line and a non-zero exit', async (args, message) => {
    const { code, out } = await cli(...args);
    expect(code).toBe(1);
    expect(out.trim()).toBe(message);
  });

  it('diffs --json parses', async () => {
    const { code, out } = await cli('diffs', 'users', '--json', '--limit', '5');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ context: 'users', findings: [], items: expect.any(Array) });
  });

  it('diffs --group names each differing JSON path with its count and example; diffs reset starts over', async () => {
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('g1@example.com', 'Same'), ('g2@example.com', 'Ada Lovelace')");
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('g1@example.com', 'Same'), ('g2@example.com', 'Ada L.')");
    const [[{ id }]] = (await monolith.sequelize.query("SELECT id FROM users WHERE email = 'g2@example.com'")) as [{ id: number }[], unknown];
    const [[{ id: same }]] = (await monolith.sequelize.query("SELECT id FROM users WHERE email = 'g1@example.com'")) as [{ id: number }[], unknown];
    expect((await cli('stage', 'users', 'shadow', '--force')).code).toBe(0);
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 2_000);
    for (const path of [`/api/users/${id}`, `/api/users/${id}`, `/api/users/${same}`]) expect((await fetch(`${facade.url}${path}`)).status).toBe(200);
    await eventually(async () => expect((await facade.facade.status.status()).contexts.find((c) => c.name === 'users')!.shadow.compared).toBe(3), 5_000);

    const text = await cli('diffs', 'users', '--group');
    expect(text.code).toBe(0);
    const lines = text.out.trim().split('\n');
    expect(lines[0]).toBe('users: 2 of 3 comparisons differed (66.7%), 0 service errors');
    expect(lines).toContain('* /api/users/:id — 3 compared, 2 differed');
    expect(text.out).toMatch(/^ {2}\$\.name {2}2× \(66\.7% of comparisons\) {2}first \S+ {2}last \S+ {2}1 distinct$/m);
    expect(text.out).toContain(`      monolith "Ada Lovelace"  service "Ada L."  ×2  (GET /api/users/${id}`);

    const json = JSON.parse((await cli('diffs', 'users', '--group', '--json', '--examples', '1')).out);
    expect(json.routes[0].paths[0]).toMatchObject({ path: '$.name', count: 2, distinct: 1, examples: [{ monolith: 'Ada Lovelace', service: 'Ada L.', count: 2 }] });

    const reset = await cli('diffs', 'reset', 'users');
    expect(reset).toEqual({ code: 0, out: 'shadow diffs and counts of users reset: the diff rate starts over\n' });
    expect(JSON.parse((await cli('diffs', 'users', '--group', '--json')).out)).toMatchObject({ compared: 0, routes: [] });
    expect((await cli('stage', 'users', 'monolith')).code).toBe(0);
  });

  it('status names the CDC worker running each pipeline, and which workers stand by', async () => {
    const cdc = await startCdcStub();
    try {
      const at = new Date().toISOString();
      cdc.pipelines.push({ name: 'users-forward', context: 'users', direction: 'forward', state: 'streaming', lagMs: 12, lagBytes: 0, worker: 'worker-a' });
      cdc.workers.push(
        { id: 'worker-a', role: 'active', pipelines: ['users-forward'], startedAt: at, seenAt: at },
        { id: 'worker-b', role: 'standby', pipelines: [], startedAt: at, seenAt: at },
      );
      const run = runCli(['status'], { ...env, STRANGLER_CDC_URL: cdc.url });
      expect((await run.exited()).code).toBe(0);
      expect(run.output()).toMatch(/^users .*streaming 12ms @worker-a/m);
      expect(run.output()).toContain('CDC workers: worker-a (runs users-forward); worker-b (standby)');
      const jsonRun = runCli(['status', '--json'], { ...env, STRANGLER_CDC_URL: cdc.url });
      expect((await jsonRun.exited()).code).toBe(0);
      const json = JSON.parse(jsonRun.output());
      expect(json.workers.map((w: { id: string; role: string }) => [w.id, w.role])).toEqual([
        ['worker-a', 'active'],
        ['worker-b', 'standby'],
      ]);
      expect(json.contexts.find((c: { name: string }) => c.name === 'users').pipelines.forward.worker).toBe('worker-a');
    } finally {
      await cdc.close();
    }
  });

  it('workshop check: one line per check with a hint, exit 1 until the exercise is done; --json for scripts', async () => {
    const text = await cli('workshop', 'check', '1');
    expect(text.code).toBe(1);
    expect(text.out).toContain('✗ notifications is at cutover or later: notifications is at monolith\n    hint: advance it stage by stage');
    expect(text.out).toContain('✗ GET /api/notifications?userId=1 (x-user-id: 1) through the facade is answered by the notifications service: x-strangler-upstream: monolith');
    expect(text.out).toContain('exercise 1 not done yet');
    const json = await cli('workshop', 'check', '1', '--json');
    expect(json.code).toBe(1);
    const body = JSON.parse(json.out);
    expect(body).toMatchObject({ exercise: 1, title: 'Extract notifications', passed: false });
    expect(body.checks[0]).toEqual({ label: 'notifications is at cutover or later', pass: false, detail: 'notifications is at monolith', hint: expect.stringContaining('npx strangler advance notifications') });
    const unknown = await cli('workshop', 'check', '9');
    expect(unknown.code).toBe(1);
    expect(unknown.out.trim()).toBe('strangler: no exercise "9"; the workshop has 0, 1, 2, 3, 4, 5, 6');
  });

  it('workshop fault and bug are refused unless the stack runs in workshop mode, and change nothing', async () => {
    for (const args of [['workshop', 'fault', 'users', 'down'], ['workshop', 'bug', 'users-name-truncated', 'on']]) {
      const run = await cli(...args);
      expect(run.code).toBe(1);
      expect(run.out.trim()).toBe('strangler: the stack does not run in workshop mode: faults and planted bugs are refused (stop it and start it with `npx strangler up --workshop`)');
    }
    const res = await fetch(`${facade.url}/api/users/1`, { headers: { 'x-user-id': '1' } });
    expect(res.status).toBe(200);
  });

  it('without a running stack, says how to start one', async () => {
    const run = runCli(['status'], { STRANGLER_HOME: tempStackHome(), STRANGLER_FACADE_URL: '', STRANGLER_ADMIN_TOKEN: '', UNLEASH_URL: '', UNLEASH_ADMIN_TOKEN: '' });
    expect((await run.exited()).code).toBe(1);
    expect(run.output().trim()).toBe(
      'strangler: no running stack found (start one with `npm start`, or set STRANGLER_FACADE_URL, STRANGLER_ADMIN_TOKEN, UNLEASH_URL, UNLEASH_ADMIN_TOKEN)',
    );
  });

  it('--help works on every command', async () => {
    for (const cmd of [[], ['up'], ['status'], ['stage'], ['advance'], ['rollback'], ['diffs'], ['diffs', 'reset'], ['history'], ['workshop'], ['workshop', 'check'], ['workshop', 'fault'], ['workshop', 'bug']]) {
      const { code, out } = await cli(...cmd, '--help');
      expect(code).toBe(0);
      expect(out).toMatch(/Usage: strangler/);
    }
  });
});
