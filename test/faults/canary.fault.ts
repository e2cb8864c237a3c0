import { Pool } from 'pg';
import request from 'supertest';
import { createLogger } from '../../lib/logger';
import { withDatabase } from '../../lib/db/urls';
import { portForLater } from '../../lib/net/ports';
import type { Plan } from '../../control/plan';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage, readStage } from '../../control/flags/stage-flags';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../facade/testing';
import { PipelineRegistry } from '../../migrations/cdc/worker/registry';
import { CdcWorker } from '../../migrations/cdc/worker/worker';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { defaultUnleashTokens, startUnleash, type UnleashProcess } from '../../scripts/stack/unleash';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { eventually } from '../harness/eventually';
import { TEST_INTERNAL_SECRET } from '../harness/internal';
import { describeWithKafka, testKafkaBrokers } from '../harness/kafka';
import { killAllChildren, sleep, startTsChild, type Child } from './support/children';
import { countsOf } from './support/converge';
import { HttpLoad, stopAllLoads, type RequestSpec, type Sample } from './support/http-load';
import { head, rawExchange } from './support/raw-http';
import { report } from './support/report';

const SEED_USERS = 100;
const UNLEASH_DOWN_MS = 60_000;
const CLOSED = 'http://127.0.0.1:9';

/**
 * The whole request path for real: Unleash (its own process), the monolith, the users service (its own process, so
 * it can be SIGKILLed), the CDC worker running both users pipelines, and the facade with automatic rollback on.
 * Scenarios run in order on the same stack: 6 (Unleash away, facade restarted), 8 (routing cannot be steered by a
 * request), then 5 (the service dies during the canary), which ends the canary.
 */
describeWithKafka('faults 5, 6, 8: a 50 % canary of the users context under load', () => {
  const tokens = defaultUnleashTokens();
  let unleashDb: TestDatabase;
  let unleashPort: number;
  let unleash: UnleashProcess | undefined;
  let admin: UnleashAdminClient;
  let monolith: TestMonolith;
  let usersDb: TestDatabase;
  let usersUrl: string;
  let usersChild: Child;
  let cdcDb: TestDatabase;
  let registry: PipelineRegistry;
  let worker: CdcWorker;
  let plan: Plan;
  let facadePort: number;
  let facade: TestFacade;
  let facadeUrl: string;
  let m: Pool;
  let s: Pool;
  let paymentId: number;
  /** Whether the test Unleash runs now: scenario 6 stops it and starts it again; a failure in between must not
   * leave scenario 5 (whose rollback goes through Unleash) without one. */
  let unleashUp = false;

  const startFacade = (db?: TestDatabase, backupDir?: string) =>
    startTestFacade({
      plan,
      unleash: { url: `http://127.0.0.1:${unleashPort}`, clientToken: tokens.clientToken },
      env: { PORT: String(facadePort), UNLEASH_ADMIN_TOKEN: tokens.adminToken, BREAKER_RESET_MS: '2000' },
      db,
      backupDir,
    });
  const startUnleashServer = () => startUnleash({ databaseUrl: unleashDb.url, port: unleashPort, ...tokens });

  beforeAll(async () => {
    [unleashDb, usersDb, cdcDb, monolith] = await Promise.all([createTestDatabase('unleash'), createTestDatabase('users'), createTestDatabase('cdc'), startTestMonolith()]);
    unleashPort = await portForLater();
    const usersPort = await portForLater();
    facadePort = await portForLater();
    usersUrl = `http://127.0.0.1:${usersPort}`;
    [unleash, usersChild] = await Promise.all([
      startUnleashServer(),
      startTsChild(
        'extracted/users/src/main.ts',
        { DATABASE_URL: usersDb.url, PORT: String(usersPort), ORDERS_URL: CLOSED, LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', STRANGLER_INTERNAL_SECRET: TEST_INTERNAL_SECRET },
        { ready: 'users service listening', timeoutMs: 60_000 },
      ),
    ]);
    unleashUp = true;
    m = new Pool({ connectionString: monolith.db.url, max: 2 });
    s = new Pool({ connectionString: usersDb.url, max: 2 });
    await m.query(`INSERT INTO users (email, name) SELECT 'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, ${SEED_USERS}) g`);
    // A payment only the monolith has: if a request ever reaches the monolith's payments route, its answer shows it.
    const { rows } = await m.query<{ id: number }>(
      `WITH o AS (INSERT INTO orders (user_id, status, total_cents) VALUES (1, 'paid', 1234) RETURNING id)
       INSERT INTO payments (order_id, amount_cents, status) SELECT id, 1234, 'captured' FROM o RETURNING id`,
    );
    paymentId = rows[0].id;

    plan = testPlan({ monolith: monolith.server.url, users: usersUrl, payments: CLOSED });
    plan.monolith.database = monolith.db.url;
    plan.contexts.users.service.database = usersDb.url;
    registry = await PipelineRegistry.open(cdcDb.url);
    worker = new CdcWorker(plan, withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, createLogger('cdc', 'silent'));
    await worker.extract('users');
    await worker.startReverse('users');
    expect((await worker.sync('users', 'forward', 30_000)).caughtUp).toBe(true);

    admin = new UnleashAdminClient({ url: unleash.url, adminToken: tokens.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    await applyStage(admin, 'payments', 'retired');
    facade = await startFacade();
    facadeUrl = facade.url;
    await eventually(() => expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 }), 10_000);
    await eventually(() => expect(facade.facade.flags.state('payments').stage).toBe('retired'), 10_000);
  });

  afterAll(async () => {
    await stopAllLoads();
    facade?.facade.server.server.closeAllConnections();
    await facade?.destroy().catch(() => undefined);
    await worker?.stop();
    await registry?.close();
    await killAllChildren();
    await unleash?.stop();
    await m?.end();
    await s?.end();
    await Promise.allSettled([monolith?.stop(), usersDb?.drop(), cdcDb?.drop(), unleashDb?.drop()]);
  });

  let emailCounter = 0;
  const mixed = (postShare: number, userCount: number) => (n: number): RequestSpec => {
    const user = `user-${n % userCount}`;
    if (Math.random() < postShare) {
      emailCounter += 1;
      return { method: 'POST', path: '/api/users', user, body: { email: `load-${emailCounter}-${Date.now().toString(36)}@example.com`, name: `Load ${emailCounter}` } };
    }
    return { method: 'GET', path: `/api/users/${1 + (n % SEED_USERS)}`, user };
  };

  /** Rows with these emails on each side, once both pipelines have caught up. */
  async function rowsByEmail(emails: string[]): Promise<{ monolith: Map<string, number>; service: Map<string, number> }> {
    const q = async (pool: Pool) => {
      const { rows } = await pool.query<{ email: string; n: string }>('SELECT email, count(*) AS n FROM users WHERE email = ANY($1) GROUP BY email', [emails]);
      return new Map(rows.map((r) => [r.email, Number(r.n)]));
    };
    return { monolith: await q(m), service: await q(s) };
  }

  async function reconcileClean(): Promise<ReturnType<typeof countsOf>> {
    let counts!: ReturnType<typeof countsOf>;
    await eventually(
      async () => {
        const result = await worker.reconcile('users', { limit: 5 });
        counts = countsOf(result);
        expect(result.clean).toBe(true);
      },
      45_000,
      1_000,
    ).catch(() => undefined);
    expect({ missing: counts.missing, extra: counts.extra, different: counts.different, rowsEqual: counts.sourceRows === counts.targetRows }).toEqual({
      missing: 0,
      extra: 0,
      different: 0,
      rowsEqual: true,
    });
    return counts;
  }

  it('6: Unleash stops under load and the facade restarts while it is down: every user stays on the same side', async () => {
    const started = Date.now();
    const load = new HttpLoad(facadeUrl, 8, mixed(0.1, 60));
    const usersServedIn = (phase: string) => new Set(load.where((x) => x.phase === phase && x.status !== null).map((x) => x.user)).size;
    load.phase = 'unleash-up';
    load.start();
    // Evidence before the outage: every user served at least once (a fixed 2 s served only 47 of 60 at load 20).
    await eventually(async () => expect(usersServedIn('unleash-up')).toBe(60), 60_000, 100);
    await unleash!.stop();
    unleashUp = false;
    const unleashDownAt = Date.now();
    load.phase = 'unleash-down';
    // The facade notices (a few seconds: unleash-client backs off), keeps the last flags and says they are stale.
    await eventually(async () => expect((await request(facadeUrl).get('/_strangler/health')).body.unleash.state).toBe('stale'), 15_000, 250);
    await sleep(1_000);

    // A restart cannot hand its listening socket over: requests in that gap are refused, and counted apart.
    load.phase = 'facade-restart';
    const stopBegan = Date.now();
    const { db, backupDir } = facade;
    const stopping = facade.stop();
    const stoppedInTime = await Promise.race([stopping.then(() => true), sleep(10_000).then(() => false)]);
    if (!stoppedInTime) {
      // Cut the keep-alive connections the load keeps busy so the scenario can go on; the hang is reported below.
      facade.facade.server.server.closeAllConnections();
      await stopping;
    }
    facade = await startFacade(db, backupDir);
    const restarted = Date.now();
    // Without Unleash the new process has only the backup file the old one kept.
    expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 });
    load.phase = 'restarted-unleash-down';
    // Issue 8's 60 s without Unleash, counted from the stop, and evidence after the restart for every user.
    await sleep(Math.max(5_000, UNLEASH_DOWN_MS - (Date.now() - unleashDownAt)));
    await eventually(async () => expect(usersServedIn('restarted-unleash-down')).toBe(60), 60_000, 100);

    const t = Date.now();
    unleash = await startUnleashServer();
    unleashUp = true;
    const unleashRestartMs = Date.now() - t;
    await eventually(async () => expect((await request(facadeUrl).get('/_strangler/health')).body.unleash.state).toBe('synchronized'), 15_000, 250);
    const unleashDownMs = Date.now() - unleashDownAt;
    load.phase = 'unleash-back';
    await sleep(2_000);
    await load.stop();

    const served = load.where((x) => x.status !== null);
    const refused = load.where((x) => x.status === null);
    // Refusals only while the facade process was being replaced: a request sent on a keep-alive connection just as
    // the old process closes it is reset (clients retry those), so what counts is when it failed, not when it began.
    const duringRestart = (x: Sample) => x.end >= stopBegan && x.start <= restarted;
    expect(refused.filter((x) => !duringRestart(x)).map((x) => `${x.phase}: ${x.method} ${x.path} ${x.error} at +${x.start - started} ms, after ${x.end - x.start} ms`)).toEqual([]);
    expect(served.filter((x) => x.method === 'GET' && x.status !== 200).map((x) => `${x.status} ${x.code}`)).toEqual([]);
    expect(served.filter((x) => x.method === 'POST' && x.status !== 201).map((x) => `${x.status} ${x.code}`)).toEqual([]);
    const byUser = new Map<string, Set<string>>();
    for (const x of served) {
      if (!byUser.has(x.user)) byUser.set(x.user, new Set());
      byUser.get(x.user)!.add(`${x.upstream}${x.fallback ? ' (fallback)' : ''}`);
    }
    const moved = [...byUser].filter(([, set]) => set.size !== 1).map(([u, set]) => `${u}: ${[...set].join(', ')}`);
    expect(moved).toEqual([]);
    const sides = new Map([...byUser].map(([u, set]) => [u, [...set][0]]));
    const phasesPerUser = new Set(served.filter((x) => x.phase === 'unleash-up').map((x) => x.user));
    const after = new Set(served.filter((x) => x.phase === 'restarted-unleash-down').map((x) => x.user));
    // The claim needs evidence on both sides of the restart for every user (awaited above), and a real split.
    expect([...phasesPerUser].filter((u) => after.has(u)).length).toBe(60);
    const onService = [...sides.values()].filter((v) => v === 'users').length;
    expect(onService).toBeGreaterThan(10);
    expect(sides.size - onService).toBeGreaterThan(10);

    const posts = served.filter((x) => x.method === 'POST');
    const counts = await reconcileClean();
    const rows = await rowsByEmail(posts.map((x) => x.email!));
    const notOnce = posts.filter((x) => rows.monolith.get(x.email!) !== 1 || rows.service.get(x.email!) !== 1).map((x) => x.email);
    expect(notOnce).toEqual([]);
    report('6-unleash-down-facade-restart', {
      requests: load.samples.length,
      refusedDuringRestart: refused.filter(duringRestart).length,
      users: byUser.size,
      usersOnService: onService,
      unleashDownMs,
      unleashRestartMs,
      posts: posts.length,
      reconcile: counts,
      facadeStoppedWithin10sUnderLoad: stoppedInTime,
      facadeRestartWindowMs: [stopBegan - started, restarted - started],
      totalMs: Date.now() - started,
    });
    // A facade that cannot stop while clients keep their connections busy cannot be restarted or redeployed.
    expect({ facadeStoppedWithin10sUnderLoad: stoppedInTime }).toEqual({ facadeStoppedWithin10sUnderLoad: true });
  });

  it('8: nothing in a request steers where it goes: spoofed headers, Host, absolute-form URLs, path variants', async () => {
    const started = Date.now();
    // One user on each side of the 50 % split (sticky, so asking once is enough).
    let serviceUser: string | undefined;
    let monolithUser: string | undefined;
    for (let i = 0; !(serviceUser && monolithUser) && i < 200; i++) {
      const side = (await request(facadeUrl).get('/api/users/1').set('x-user-id', `probe-${i}`)).headers['x-strangler-upstream'];
      if (side === 'users') serviceUser ??= `probe-${i}`;
      if (side === 'monolith') monolithUser ??= `probe-${i}`;
    }
    expect({ serviceUser: typeof serviceUser, monolithUser: typeof monolithUser }).toEqual({ serviceUser: 'string', monolithUser: 'string' });
    const spoofs: Record<string, string>[] = [
      { 'x-strangler-upstream': 'monolith' },
      { 'x-strangler-upstream': 'users' },
      { 'x-strangler-context': 'none' },
      { 'x-strangler-fallback': '1' },
      { 'x-strangler-stage': 'monolith' },
      { host: `127.0.0.1:${monolith.server.port}` },
      { host: 'evil.example' },
      { 'x-forwarded-host': 'evil.example' },
      { forwarded: 'host=evil.example;proto=http' },
      { 'x-original-url': `/api/payments/${paymentId}` },
      { 'x-rewrite-url': `/api/payments/${paymentId}` },
      { 'x-http-method-override': 'DELETE' },
    ];
    const problems: string[] = [];
    let checked = 0;
    for (const headers of spoofs) {
      for (const [user, side] of [
        [serviceUser, 'users'],
        [monolithUser, 'monolith'],
      ]) {
        const res = await request(facadeUrl).get('/api/users/1').set({ 'x-user-id': user, ...headers });
        checked += 1;
        if (res.headers['x-strangler-upstream'] !== side || res.status !== 200) {
          problems.push(`${JSON.stringify(headers)} user on ${side}: ${res.status} via ${res.headers['x-strangler-upstream']}`);
        }
      }
      // A retired context never falls back: whatever the request says, it is the service's answer (here: down).
      const retired = await request(facadeUrl).get(`/api/payments/${paymentId}`).set(headers);
      checked += 1;
      if (retired.headers['x-strangler-upstream'] !== 'payments' || retired.status !== 503) {
        problems.push(`${JSON.stringify(headers)} retired payments: ${retired.status} via ${retired.headers['x-strangler-upstream']}`);
      }
    }
    // Request lines that name the same resource differently. The rule: never the monolith's answer for a retired
    // context (its payment row is only there), and the same side for the same user.
    const paths = [
      `http://evil.example/api/payments/${paymentId}`,
      `http://127.0.0.1:${monolith.server.port}/api/payments/${paymentId}`,
      `/API/PAYMENTS/${paymentId}`,
      `/api/Payments/${paymentId}`,
      `/api/payments/${paymentId}/`,
      `//api/payments/${paymentId}`,
      `/api/./payments/${paymentId}`,
      `/api/x/../payments/${paymentId}`,
      `/api/%70ayments/${paymentId}`,
      `/api/payments/${paymentId}?x=1`,
      `/api/payments/${paymentId}#frag`,
      `/api/payments\\${paymentId}`,
      `/api/payments/${paymentId}#/../../x`,
      `/api/payments;x/${paymentId}`,
    ];
    // The check below must be able to see a leak: the monolith itself does serve this payment.
    const direct = await request(monolith.server.url).get(`/api/payments/${paymentId}`);
    expect({ status: direct.status, leaks: JSON.stringify(direct.body).includes('"amountCents":1234') }).toEqual({ status: 200, leaks: true });
    const outcomes: string[] = [];
    for (const p of paths) {
      const res = await rawExchange(facadePort, head('GET', p));
      checked += 1;
      outcomes.push(`${p} → ${res.status} via ${res.headers['x-strangler-upstream']}`);
      const monolithAnswered = res.headers['x-strangler-upstream'] === 'monolith' && res.status === 200 && res.body.includes('"amountCents":1234');
      if (monolithAnswered || res.status === null || (res.status >= 500 && res.headers['x-strangler-upstream'] !== 'payments')) {
        problems.push(`GET ${p}: ${res.status} via ${res.headers['x-strangler-upstream']} ${res.body.slice(0, 80)}`);
      }
    }
    for (const p of [`http://evil.example/api/users/1`, '/API/USERS/1', '/api/Users/1']) {
      const res = await rawExchange(facadePort, head('GET', p, { 'x-user-id': serviceUser! }));
      checked += 1;
      if (res.status === 200 && res.headers['x-strangler-upstream'] !== 'users') problems.push(`GET ${p} (user on the service): 200 via ${res.headers['x-strangler-upstream']}`);
    }
    report('8-routing-not-steerable', { requests: checked, problems, outcomes, totalMs: Date.now() - started });
    expect(problems).toEqual([]);
  });

  it('5: the users service is SIGKILLed during the canary: reads fall back, writes get 503, rollback fires, no partial write', async () => {
    if (!unleashUp) {
      unleash = await startUnleashServer();
      unleashUp = true;
    }
    await eventually(() => expect(facade.facade.flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 }), 15_000);
    const started = Date.now();
    const load = new HttpLoad(facadeUrl, 8, mixed(0.4, 200));
    load.phase = 'alive';
    load.start();
    await sleep(2_000);
    const killAt = Date.now();
    await usersChild.kill9();
    const killedAt = Date.now();
    load.phase = 'dead';
    await eventually(async () => expect((await readStage(admin, 'users')).stage).toBe('shadow'), 30_000, 200);
    const rolledBackAt = Date.now();
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 10_000, 100);
    const facadeFlippedAt = Date.now();
    load.phase = 'rolled-back';
    await sleep(2_000);
    await load.stop();

    const gets = load.where((x) => x.method === 'GET');
    const posts = load.where((x) => x.method === 'POST');
    expect(load.where((x) => x.status === null).map((x) => x.error)).toEqual([]);
    expect(gets.filter((x) => x.status !== 200).map((x) => `${x.status} ${x.code} via ${x.upstream}`)).toEqual([]);
    const fallbacks = gets.filter((x) => x.fallback);
    expect(fallbacks.length).toBeGreaterThan(0);
    const refused = posts.filter((x) => x.status === 503);
    expect(posts.filter((x) => x.status !== 201 && x.status !== 503).map((x) => `${x.status} ${x.code}`)).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((x) => x.code !== 'upstream_unavailable' || x.upstream !== 'users').map((x) => `${x.code} via ${x.upstream}`)).toEqual([]);
    // Once the facade has the rollback, writes go to the monolith again.
    expect(posts.filter((x) => x.start > facadeFlippedAt + 500 && x.status !== 201).map((x) => `${x.status} ${x.code}`)).toEqual([]);

    const status = await request(facadeUrl).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    const ctx = status.body.contexts.find((c: { name: string }) => c.name === 'users');
    expect(ctx.lastRollback).toMatchObject({ context: 'users', from: { stage: 'canary', percent: 50 }, to: { stage: 'shadow' }, reason: expect.stringContaining('service error rate') });

    // No partial write: an accepted write is on both sides once, a refused one on neither. A write in flight at the
    // moment of the kill may have committed before the process died; it must still be on both sides or neither.
    const counts = await reconcileClean();
    const rows = await rowsByEmail(posts.map((x) => x.email!));
    const where = (x: Sample) => `${rows.monolith.get(x.email!) ?? 0}/${rows.service.get(x.email!) ?? 0}`;
    const accepted = posts.filter((x) => x.status === 201);
    const inFlight = refused.filter((x) => x.start < killedAt);
    const refusedAfter = refused.filter((x) => x.start >= killedAt);
    expect(accepted.filter((x) => where(x) !== '1/1').map((x) => `${x.email}: ${where(x)}`)).toEqual([]);
    expect(refusedAfter.filter((x) => where(x) !== '0/0').map((x) => `${x.email}: ${where(x)}`)).toEqual([]);
    expect(inFlight.filter((x) => where(x) !== '0/0' && where(x) !== '1/1').map((x) => `${x.email}: ${where(x)}`)).toEqual([]);
    report('5-service-killed-during-canary', {
      requests: load.samples.length,
      gets: gets.length,
      getFallbacks: fallbacks.length,
      posts: posts.length,
      posts503: refused.length,
      posts503InFlightAtKill: inFlight.length,
      inFlightCommitted: inFlight.filter((x) => where(x) === '1/1').length,
      killToRollbackMs: rolledBackAt - killAt,
      killToFacadeFlipMs: facadeFlippedAt - killAt,
      lastRollback: ctx.lastRollback,
      reconcile: counts,
      totalMs: Date.now() - started,
    });
  });
});
