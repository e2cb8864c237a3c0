import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { portForLater } from '../../lib/net/ports';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage, readStage } from '../../control/flags/stage-flags';
import type { HistoryEntry, StatusResponse } from '../../control/contracts';
import { startCdcStub, type CdcStub } from '../../control/__tests__/cdc-stub';
import { TEST_ADMIN_TOKEN } from '../../facade/testing';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { defaultUnleashTokens, startUnleash, type UnleashProcess } from '../../scripts/stack/unleash';
import type { LoadSummary } from '../../scripts/load/stats';
import { runCli, tempStackHome } from '../harness/cli';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { eventually } from '../harness/eventually';
import { TEST_INTERNAL_SECRET } from '../harness/internal';
import { Balancer } from './support/balancer';
import { killAllChildren, sleep, startTsChild, type Child } from './support/children';
import { HttpLoad, send, stopAllLoads } from './support/http-load';
import { report } from './support/report';

const SEED_USERS = 100;
const CLOSED = 'http://127.0.0.1:9';
/** How long the stub CDC worker holds a rollback's read-your-writes wait: the winner keeps the stage lock that long. */
const SYNC_HOLD_MS = 4_000;

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url, { headers: auth, signal: AbortSignal.timeout(5_000) })).json()) as T;
const usersStatus = async (facadeUrl: string) => (await getJson<StatusResponse>(`${facadeUrl}/_strangler/status`)).contexts.find((c) => c.name === 'users')!;

/**
 * Two facade processes on one toolkit database and one Unleash, behind a small load balancer
 * (support/balancer.ts): the users context at a 50 % canary. Scenario 10: both replicas put every user on the same
 * side; `strangler load` through the balancer while one facade is SIGKILLed. Scenario 11: at cutover the service
 * dies and both replicas' automatic rollback trips on the same incident: one rollback, one history entry.
 */
describe('faults 10, 11: two facades behind a load balancer', () => {
  const tokens = defaultUnleashTokens();
  let unleashDb: TestDatabase;
  let facadeDb: TestDatabase;
  let usersDb: TestDatabase;
  let unleash: UnleashProcess;
  let admin: UnleashAdminClient;
  let monolith: TestMonolith;
  let users: Child;
  let usersPort: number;
  let cdc: CdcStub;
  let balancer: Balancer;
  let balancerUrl: string;
  let env: Record<string, string>;
  /** `decided`: the replica's automatic rollback tripped (it moved the context, or found the move made or in progress). */
  const facades: Record<'a' | 'b', { port: number; url: string; child?: Child; backupDir: string; decided: boolean }> = {} as never;
  const DECIDED = /"msg":"automatic rollback( not applied| already made[^"]*)?"/;

  const startUsers = () =>
    startTsChild(
      'extracted/users/src/main.ts',
      { DATABASE_URL: usersDb.url, PORT: String(usersPort), ORDERS_URL: CLOSED, LOG_LEVEL: 'info', OTEL_SDK_DISABLED: 'true', STRANGLER_INTERNAL_SECRET: TEST_INTERNAL_SECRET },
      { ready: 'users service listening', timeoutMs: 60_000 },
    );
  const startFacade = async (name: 'a' | 'b') => {
    const f = facades[name];
    f.child = await startTsChild('facade/src/main.ts', { ...env, PORT: String(f.port), UNLEASH_BACKUP_DIR: f.backupDir }, { ready: 'facade listening', timeoutMs: 90_000 });
    // Watched line by line as it comes: the child's kept output is trimmed under request logs.
    let partial = '';
    f.child.process.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      if (lines.some((l) => DECIDED.test(l))) f.decided = true;
    });
  };

  beforeAll(async () => {
    [unleashDb, facadeDb, usersDb, monolith, cdc] = await Promise.all([
      createTestDatabase('unleash'),
      createTestDatabase('facade'),
      createTestDatabase('users'),
      startTestMonolith(),
      startCdcStub(),
    ]);
    const unleashPort = await portForLater();
    usersPort = await portForLater();
    for (const name of ['a', 'b'] as const) {
      const port = await portForLater();
      facades[name] = { port, url: `http://127.0.0.1:${port}`, backupDir: fs.mkdtempSync(path.join(os.tmpdir(), `strangler-facade-${name}-`)), decided: false };
    }
    [unleash, users] = await Promise.all([startUnleash({ databaseUrl: unleashDb.url, port: unleashPort, ...tokens }), startUsers()]);
    const m = new Pool({ connectionString: monolith.db.url, max: 1 });
    await m.query(`INSERT INTO users (email, name) SELECT 'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, ${SEED_USERS}) g`);
    await m.end();
    // The service holds the same users (no pipeline runs here): a canary user's read finds its row on either side.
    const svc = new Pool({ connectionString: usersDb.url, max: 1 });
    await svc.query(`INSERT INTO users (id, email, full_name) SELECT g, 'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, ${SEED_USERS}) g`);
    await svc.query(`SELECT setval(pg_get_serial_sequence('users', 'id'), 1000000)`);
    await svc.end();
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: tokens.adminToken });
    await applyStage(admin, 'users', 'canary', 50);
    // A rollback waits for the reverse pipeline before it flips: the winning replica holds the stage lock meanwhile.
    cdc.onSync = async () => {
      await sleep(SYNC_HOLD_MS);
      return { caughtUp: true, waitedMs: SYNC_HOLD_MS, lsn: '0/1' };
    };
    // The shop plan, every URL and database of it from the environment: the facades and `strangler load` read the same.
    env = {
      FACADE_DATABASE_URL: facadeDb.url,
      STRANGLER_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      UNLEASH_URL: unleash.url,
      UNLEASH_CLIENT_TOKEN: tokens.clientToken,
      UNLEASH_ADMIN_TOKEN: tokens.adminToken,
      UNLEASH_REFRESH_MS: '200',
      STRANGLER_CDC_URL: cdc.url,
      STRANGLER_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      MONOLITH_URL: monolith.server.url,
      MONOLITH_DATABASE: monolith.db.url,
      USERS_URL: `http://127.0.0.1:${usersPort}`,
      USERS_DATABASE: usersDb.url,
      ORDERS_URL: CLOSED,
      PAYMENTS_URL: CLOSED,
      NOTIFICATIONS_URL: CLOSED,
      BREAKER_RESET_MS: '2000',
      UPSTREAM_TIMEOUT_MS: '3000',
      LOG_LEVEL: 'info',
      OTEL_SDK_DISABLED: 'true',
    };
    // Both at once, as a Deployment starts its replicas: their schema set-up shares the database.
    await Promise.all([startFacade('a'), startFacade('b')]);
    balancer = new Balancer([facades.a.url, facades.b.url], { healthMs: 500 });
    balancerUrl = await balancer.listen();
    for (const f of [facades.a, facades.b]) await eventually(async () => expect((await usersStatus(f.url)).percent).toBe(50), 15_000, 200);
  });

  afterAll(async () => {
    await stopAllLoads();
    await balancer?.close();
    await killAllChildren();
    await unleash?.stop();
    await cdc?.close();
    await monolith?.stop();
    await Promise.allSettled([unleashDb?.drop(), facadeDb?.drop(), usersDb?.drop()]);
    for (const f of Object.values(facades)) fs.rmSync(f.backupDir, { recursive: true, force: true });
  });

  /** Users the 50 % canary keeps on the monolith (scenario 10 finds them; scenario 11 loads with them). */
  const monolithSide: string[] = [];

  it('10: the same user lands on the same side through either replica; a replica SIGKILLed under `strangler load` fails no GET', async () => {
    const started = Date.now();
    // Sticky hashing is deterministic: both replicas put each user on the same side, and the split is real.
    const sides: Record<string, number> = {};
    const differ: string[] = [];
    for (let i = 0; i < 40; i++) {
      const spec = { method: 'GET' as const, path: '/api/users/1', user: `sticky-${i}` };
      const [a, b] = await Promise.all([send(facades.a.url, spec), send(facades.b.url, spec)]);
      if (a.upstream !== b.upstream) differ.push(`${spec.user}: ${a.upstream} via a, ${b.upstream} via b`);
      sides[a.upstream ?? 'none'] = (sides[a.upstream ?? 'none'] ?? 0) + 1;
      if (a.upstream === 'monolith') monolithSide.push(spec.user);
    }
    expect(differ).toEqual([]);
    expect(sides.users).toBeGreaterThan(5);
    expect(sides.monolith).toBeGreaterThan(5);

    const load = runCli(['load', '--context', 'users', '--rps', '25', '--duration', '20', '--users', '40', '--json'], {
      ...env,
      STRANGLER_HOME: tempStackHome(),
      STRANGLER_FACADE_URL: balancerUrl,
    });
    const b = balancer.backends[1];
    // Killed once the balancer has sent it traffic for a while (an event, not a sleep).
    await eventually(() => expect(balancer.forwarded(b.url)).toBeGreaterThan(30), 60_000, 50);
    const killedAt = Date.now();
    await facades.b.child!.kill9();
    const { code } = await load.exited();
    expect(code).toBe(0);
    const summary = JSON.parse(load.output().slice(load.output().indexOf('{'))) as LoadSummary;
    const routeErrors = (method: string) =>
      Object.entries(summary.byRoute)
        .filter(([route]) => route.startsWith(`${method} `))
        .reduce((n, [, r]) => n + r.errors, 0);
    expect({ getErrors: routeErrors('GET'), ...(routeErrors('GET') ? { top: summary.errors.top, byRoute: summary.byRoute, slow: balancer.slow.slice(0, 10).map((x) => ({ ...x, dispatchedAt: x.dispatchedAt - killedAt, at: x.at - killedAt })), slowCount: balancer.slow.length, downAt: b.downAt! - killedAt } : {}) }).toEqual({ getErrors: 0 });
    // Every failure the client saw is a write the balancer refused because the killed replica failed under it, sent
    // before the balancer marked that replica down; none after.
    expect(summary.errors.network).toBe(0);
    expect(summary.byStatusClass['5xx'] ?? 0).toBe(balancer.refusals.length);
    expect(b.downAt).not.toBeNull();
    expect(balancer.refusals.filter((r) => r.dispatchedAt > b.downAt!)).toEqual([]);
    expect(balancer.refusals.every((r) => r.method !== 'GET')).toBe(true);

    // Back under the same port: the balancer's health check takes it in again.
    await startFacade('b');
    await eventually(() => expect(b.up).toBe(true), 10_000, 100);
    report('10-facade-replicas-balancer', {
      stickyUsers: 40,
      sides,
      requests: summary.requests,
      byStatusClass: summary.byStatusClass,
      getsRetriedByBalancer: balancer.retried,
      writesRefused: balancer.refusals.length,
      noticedAfterKillMs: b.downAt! - killedAt,
      refusedWindowMs: balancer.refusals.length ? Math.max(...balancer.refusals.map((r) => r.at)) - killedAt : 0,
      totalMs: Date.now() - started,
    });
  });

  it('11: the service dies at cutover, both replicas trip the automatic rollback: one rollback, one history entry', async () => {
    const started = Date.now();
    await applyStage(admin, 'users', 'cutover');
    for (const f of [facades.a, facades.b]) await eventually(async () => expect((await usersStatus(f.url)).stage).toBe('cutover'), 15_000, 200);
    const autoRollbacks = async () => (await getJson<{ items: HistoryEntry[] }>(`${facades.a.url}/_strangler/history?context=users&limit=50`)).items.filter((e) => e.actor === 'auto-rollback');
    expect(await autoRollbacks()).toEqual([]);

    await users.kill9();
    const killedAt = Date.now();
    // Users the canary the rollback returns to keeps on the monolith: at cutover each of them reaches the dead
    // service, at the canary none does. So a replica's window after the move can only hold failures of requests
    // routed at cutover, which must not count there (the facade forgets them at the move, and one that ends after it
    // belongs to the window it was routed in).
    expect(monolithSide.length).toBeGreaterThan(5);
    const load = new HttpLoad(balancerUrl, 6, (n) => ({ method: 'GET', path: `/api/users/${1 + (n % SEED_USERS)}`, user: monolithSide[n % monolithSide.length] }));
    load.start();
    const entries = await eventually(async () => {
      const items = await autoRollbacks();
      expect(items.length).toBeGreaterThan(0);
      return items;
    }, 30_000, 200);
    // Both replicas decided it: the one that lost saw the stage lock held, or the context moved already.
    await eventually(() => expect([facades.a.decided, facades.b.decided]).toEqual([true, true]), 15_000, 100).catch(() => undefined);
    const bothDecided = facades.a.decided && facades.b.decided;
    await load.stop();
    users = await startUsers();

    // Both replicas at the canary the rollback chose, each with an empty window: nothing left to roll back on.
    for (const f of [facades.a, facades.b]) {
      await eventually(async () => expect((await usersStatus(f.url)) as unknown).toMatchObject({ stage: 'canary', percent: 50, service: { failed: 0 } }), 20_000, 200);
    }
    const healthy = new HttpLoad(balancerUrl, 4, (n) => ({ method: 'GET', path: `/api/users/${1 + (n % SEED_USERS)}`, user: `u-${n % 50}` }));
    healthy.start();
    await eventually(() => expect(healthy.samples.length).toBeGreaterThan(200), 20_000, 100);
    await healthy.stop();
    const after = await autoRollbacks();
    expect(after.map((e) => [e.from.stage, e.to.stage, e.to.percent])).toEqual([['cutover', 'canary', 50]]);
    expect(await readStage(admin, 'users')).toMatchObject({ stage: 'canary', percent: 50 });
    const counted = await Promise.all([facades.a, facades.b].map(async (f) => {
      const text = await (await fetch(`${f.url}/_strangler/metrics`)).text();
      return Number(/strangler_auto_rollbacks_total\{context="users"\} (\d+)/.exec(text)?.[1] ?? 0);
    }));
    expect(counted.reduce((x, y) => x + y, 0)).toBe(1);
    expect(bothDecided).toBe(true);
    report('11-auto-rollback-once', {
      rollbackAfterKillMs: new Date(entries[0].at).getTime() - killedAt,
      rollbacksPerReplica: counted,
      historyEntries: after.length,
      bothReplicasDecided: bothDecided,
      requests: load.samples.length,
      totalMs: Date.now() - started,
    });
  });
});
