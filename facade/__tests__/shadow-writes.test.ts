import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { withDatabase } from '../../lib/db/urls';
import { listen, type RunningServer } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage } from '../../control/flags/stage-flags';
import { createWorkerApp } from '../../migrations/cdc/worker/app';
import { PipelineRegistry } from '../../migrations/cdc/worker/registry';
import { CdcWorker } from '../../migrations/cdc/worker/worker';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { eventually } from '../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../test/harness/kafka';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(180_000);

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/**
 * The users service as a team that never read about the dry run would deploy it: a proxy drops the marker, so the
 * service commits every mirrored write. It also records what reached the service.
 */
async function ignoringTheMarker(target: string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const headers = { ...req.headers };
    delete headers['x-strangler-shadow'];
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describeWithKafka('shadow writes: reads only by default, dry runs verified by the write guard', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let proxy: Awaited<ReturnType<typeof ignoringTheMarker>>;
  let cdcDb: TestDatabase;
  let registry: PipelineRegistry;
  let worker: CdcWorker;
  let workerServer: RunningServer;
  let readsOnly: TestFacade;
  let dryRun: TestFacade;

  const plan = () => {
    const p = testPlan({ monolith: monolith.server.url, users: proxy.url });
    p.monolith.database = monolith.db.url;
    p.contexts.users.service.database = users.db.url;
    return p;
  };

  beforeAll(async () => {
    [unleash, monolith, users, cdcDb] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService(), createTestDatabase('cdc')]);
    proxy = await ignoringTheMarker(users.server.url);
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('first@example.com', 'First')");
    registry = await PipelineRegistry.open(cdcDb.url);
    worker = new CdcWorker(plan(), withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, createLogger('cdc', 'silent'));
    workerServer = await listen(createWorkerApp(worker, registry, createLogger('cdc', 'silent'), { adminToken: TEST_ADMIN_TOKEN }), 0);
    await request(workerServer.url).post('/contexts/users/extract').set(auth).send({}).expect(200);

    const none = plan();
    none.contexts.users.shadow.writes = 'none';
    [readsOnly, dryRun] = await Promise.all([
      startTestFacade({ plan: none, unleash }),
      startTestFacade({
        plan: plan(),
        unleash,
        env: { STRANGLER_CDC_URL: workerServer.url, WRITE_GUARD_POLL_MS: '200', UNLEASH_ADMIN_TOKEN: unleash.adminToken },
      }),
    ]);
    await applyStage(new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken }), 'users', 'shadow');
    await eventually(() => {
      expect(readsOnly.facade.flags.state('users').stage).toBe('shadow');
      expect(dryRun.facade.flags.state('users').stage).toBe('shadow');
    }, 5_000, 50);
  });
  afterAll(async () => {
    await Promise.all([readsOnly?.destroy(), dryRun?.destroy()]);
    await worker?.stop();
    await workerServer?.close();
    await registry?.close();
    await proxy?.close();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
    await cdcDb?.drop();
  });

  const status = async (f: TestFacade) => (await request(f.url).get('/_strangler/status').set(auth)).body.contexts.find((c: { name: string }) => c.name === 'users');
  const rows = async (db: { sequelize: TestMonolith['sequelize'] }, email: string) =>
    ((await db.sequelize.query(`SELECT count(*)::int AS n FROM users WHERE email = '${email}'`))[0][0] as { n: number }).n;
  const posts = () => proxy.seen.filter((s) => s.startsWith('POST'));

  it('with shadow.writes: none only reads reach the service', async () => {
    const created = await request(readsOnly.url).post('/api/users').send({ email: 'reads-only@example.com', name: 'Reads Only' });
    expect(created.status).toBe(201);
    expect(created.headers['x-strangler-upstream']).toBe('monolith');
    await request(readsOnly.url).get('/api/users/1').expect(200);
    await eventually(() => expect(proxy.seen).toContain('GET /api/users/1'), 5_000);
    expect(posts()).toEqual([]);
    expect(await status(readsOnly)).toMatchObject({ shadow: { writes: 'none', writesMirrored: false }, findings: [] });
  });

  it('with dryRun a service that commits a mirrored write is refused, reported as critical, and gets no more writes', async () => {
    expect((await status(dryRun)).shadow).toMatchObject({ writes: 'dryRun', writesMirrored: true });
    const created = await request(dryRun.url).post('/api/users').send({ email: 'mirrored@example.com', name: 'Mirrored' });
    expect(created.status).toBe(201);
    await eventually(() => expect(posts()).toEqual(['POST /api/users']), 5_000);

    const s = await eventually(async () => {
      const st = await status(dryRun);
      expect(st.shadow.writesMirrored).toBe(false);
      return st;
    }, 10_000);
    expect(s.writeGuard).toMatchObject({ violations: 1, lastViolation: { table: 'users', operation: 'INSERT' } });
    expect(s.findings).toEqual([expect.objectContaining({ severity: 'critical', code: 'write_guard_violation', message: expect.stringContaining('1 write(s) committed by the users service') })]);
    const diffs = await request(dryRun.url).get('/_strangler/diffs').query({ context: 'users' }).set(auth).expect(200);
    expect(diffs.body.findings).toEqual(s.findings.map((f: object) => ({ ...f, context: 'users' })));
    const page = await request(dryRun.url).get('/_strangler/').set(auth);
    if (page.status === 200) expect(page.text).toContain('Critical:');

    // Writes are no longer mirrored; reads still are.
    await request(dryRun.url).post('/api/users').send({ email: 'after@example.com', name: 'After' }).expect(201);
    await request(dryRun.url).get('/api/users/1').expect(200);
    await eventually(() => expect(proxy.seen.filter((x) => x === 'GET /api/users/1').length).toBeGreaterThanOrEqual(2), 5_000);
    expect(posts()).toEqual(['POST /api/users']);

    // Each write exists once on each side: the monolith's own, and the copy the forward pipeline brought over.
    await request(workerServer.url).post('/contexts/users/sync').set(auth).send({ direction: 'forward', timeoutMs: 20_000 }).expect(200);
    for (const email of ['mirrored@example.com', 'after@example.com', 'reads-only@example.com']) {
      expect(await rows(monolith, email)).toBe(1);
      expect(await rows(users, email)).toBe(1);
    }
  });

  it('the canary gate fails on the violation', async () => {
    const res = await request(dryRun.url).post('/_strangler/contexts/users/advance').set(auth).send({});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('gate_failed');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ gate: 'writes.violations', pass: false, detail: expect.stringContaining('refused by the write guard') })]),
    );
  });

  it('a rollback that bypasses the stage controller (the automatic one, a flip in Unleash) arms the guard again', async () => {
    const admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    const armed = async () => (await request(workerServer.url).get('/guards').set(auth).expect(200)).body.items.find((g: { context: string }) => g.context === 'users').tables[0].armed;
    await request(workerServer.url).post('/contexts/users/reverse').set(auth).send({}).expect(200);
    expect(await armed()).toBe(false);
    await applyStage(admin, 'users', 'canary', 50);
    await eventually(() => expect(dryRun.facade.flags.state('users').stage).toBe('canary'), 5_000, 50);
    expect(await armed()).toBe(false);
    await applyStage(admin, 'users', 'shadow');
    await eventually(async () => expect(await armed()).toBe(true), 5_000);
  });
});
