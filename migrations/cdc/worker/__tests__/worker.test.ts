import { Pool } from 'pg';
import request from 'supertest';
import { createLogger } from '../../../../lib/logger';
import { listen, type RunningServer } from '../../../../lib/http/server';
import { withDatabase } from '../../../../lib/db/urls';
import { startTestMonolith, type TestMonolith } from '../../../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../../../extracted/users/testing';
import { testPlan } from '../../../../facade/testing';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { createWorkerApp } from '../app';
import { PipelineRegistry } from '../registry';
import { CdcWorker } from '../worker';

jest.setTimeout(120_000);

const TOKEN = 'test-cdc-admin-token-0123456789';

describeWithKafka('CDC worker: extraction, both directions, read-your-writes, reconcile', () => {
  let monolith: TestMonolith;
  let users: TestUsersService;
  let cdcDb: TestDatabase;
  let registry: PipelineRegistry;
  let worker: CdcWorker;
  let server: RunningServer;
  let m: Pool;
  let s: Pool;

  beforeAll(async () => {
    [monolith, users, cdcDb] = await Promise.all([startTestMonolith(), startTestUsersService(), createTestDatabase('cdc')]);
    await monolith.sequelize.query("INSERT INTO users (email, name) SELECT 'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, 50) g");
    // The plan names databases; point them at this test's databases on the run's server.
    const plan = testPlan({ monolith: monolith.server.url, users: users.server.url });
    plan.monolith.database = monolith.db.url;
    plan.contexts.users.service.database = users.db.url;
    registry = await PipelineRegistry.open(cdcDb.url);
    worker = new CdcWorker(plan, withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, createLogger('cdc', 'silent'));
    server = await listen(createWorkerApp(worker, registry, createLogger('cdc', 'silent'), { adminToken: TOKEN, allowedHosts: ['cdc'] }), 0);
    m = new Pool({ connectionString: monolith.db.url, max: 2 });
    s = new Pool({ connectionString: users.db.url, max: 2 });
  });
  afterAll(async () => {
    await worker?.stop();
    await server?.close();
    await registry?.close();
    await m?.end();
    await s?.end();
    // Slots pin the databases: the pipelines are stopped, so the drops can go ahead.
    await Promise.all([monolith?.stop(), users?.stop(), cdcDb?.drop()]);
  });

  const auth = { authorization: `Bearer ${TOKEN}` };
  /** As the CLI and the facade call it: the admin token, and JSON bodies (`{}` when there are no options). */
  const post = (path: string) => request(server.url).post(path).set(auth).send({});
  const get = (path: string) => request(server.url).get(path).set(auth);

  const count = async (pool: Pool, sql: string) => Number((await pool.query(sql)).rows[0].n);

  it('extract into a service table that holds rows: 409 naming the table, nothing started; a bad force is 400', async () => {
    await s.query("INSERT INTO users (id, email, full_name) VALUES (900000, 'stale@example.com', 'Stale')");
    const refused = await post('/contexts/users/extract');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'pipeline_refused', message: expect.stringMatching(/target table \S+\.public\.users is not empty.*--force/) });
    expect((await get('/pipelines')).body.items).toEqual([]);
    const bad = await request(server.url).post('/contexts/users/extract').set(auth).send({ force: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/force/);
  });

  it('extract with force: the stale rows are truncated, disjoint ids, snapshot loaded, forward pipeline streaming', async () => {
    const res = await request(server.url).post('/contexts/users/extract').set(auth).send({ force: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'users-forward', context: 'users', direction: 'forward' });
    const sync = await post('/contexts/users/sync').send({ direction: 'forward', timeoutMs: 20_000 });
    expect(sync.body.caughtUp).toBe(true);
    expect(await count(s, 'SELECT count(*) AS n FROM users')).toBe(50);
    expect(await count(s, "SELECT count(*) AS n FROM users WHERE email = 'stale@example.com'")).toBe(0);
    expect((await s.query("SELECT full_name FROM users WHERE email = 'seed7@example.com'")).rows[0].full_name).toBe('Seed 7');
    const list = await get('/pipelines');
    expect(list.body.items).toEqual([expect.objectContaining({ name: 'users-forward', state: 'streaming', worker: worker.id })]);
    // The only live worker, holding the pipeline's lease: active (a second one would be listed as standby).
    expect(list.body.worker).toBe(worker.id);
    expect(list.body.workers).toEqual([expect.objectContaining({ id: worker.id, role: 'active', pipelines: ['users-forward'] })]);
  });

  it('read-your-writes: a write in the monolith is applied in the service when sync returns', async () => {
    await m.query("INSERT INTO users (email, name) VALUES ('fresh@example.com', 'Fresh')");
    const sync = await post('/contexts/users/sync').send({ direction: 'forward', timeoutMs: 20_000 });
    expect(sync.body).toMatchObject({ caughtUp: true, lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) });
    expect(await count(s, "SELECT count(*) AS n FROM users WHERE email = 'fresh@example.com'")).toBe(1);
  });

  it('both directions at once: no loop, no id collision, both sides equal', async () => {
    await post('/contexts/users/reverse').expect(200);
    // Writes on both sides at once: the service's ids come from its own range.
    await Promise.all([
      m.query("INSERT INTO users (email, name) SELECT 'm' || g || '@example.com', 'M ' || g FROM generate_series(1, 200) g"),
      s.query("INSERT INTO users (email, full_name) SELECT 's' || g || '@example.com', 'S ' || g FROM generate_series(1, 200) g"),
    ]);
    await s.query("UPDATE users SET full_name = 'Renamed in the service' WHERE email = 'seed3@example.com'");
    await eventually(async () => {
      const f = await post('/contexts/users/sync').send({ direction: 'forward', timeoutMs: 10_000 });
      const r = await post('/contexts/users/sync').send({ direction: 'reverse', timeoutMs: 10_000 });
      expect([f.body.caughtUp, r.body.caughtUp]).toEqual([true, true]);
      expect(await count(m, 'SELECT count(*) AS n FROM users')).toBe(451);
      expect(await count(s, 'SELECT count(*) AS n FROM users')).toBe(451);
    }, 30_000, 500);
    expect(await count(s, 'SELECT count(*) AS n FROM users WHERE id >= 1000000000')).toBe(200);
    expect(await count(m, 'SELECT count(*) AS n FROM users WHERE id >= 1000000000')).toBe(200);
    expect((await m.query("SELECT name FROM users WHERE email = 'seed3@example.com'")).rows[0].name).toBe('Renamed in the service');
    const rec = await post('/contexts/users/reconcile');
    expect(rec.body).toMatchObject({ clean: true, summary: expect.stringContaining('reconcile clean') });

    // No ping-pong: once quiet, the pipelines stop moving.
    const applied = async () => {
      const { body } = await get('/pipelines');
      return body.items.map((p: { sink: { applied: number } }) => p.sink.applied);
    };
    const before = await applied();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await applied()).toEqual(before);
  });

  it('exports each pipeline\'s state, lag, rate and totals on /metrics for Prometheus', async () => {
    const metrics = (await request(server.url).get('/metrics').expect(200)).text;
    const value = (line: string) => {
      const found = metrics.split('\n').find((l) => l.startsWith(`${line} `));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    };
    const forward = 'pipeline="users-forward",context="users",direction="forward"';
    const reverse = 'pipeline="users-reverse",context="users",direction="reverse"';
    expect(value(`strangler_cdc_pipeline_state{${forward},state="streaming"}`)).toBe(1);
    expect(value(`strangler_cdc_pipeline_state{${forward},state="error"}`)).toBe(0);
    expect(value(`strangler_cdc_pipeline_state{${reverse},state="streaming"}`)).toBe(1);
    // 1 + 200 inserts applied by the forward sink (the snapshot's 50 rows were bulk-loaded by COPY, not through it).
    expect(value(`strangler_cdc_applied_total{${forward}}`)).toBeGreaterThanOrEqual(201);
    expect(value(`strangler_cdc_applied_total{${reverse}}`)).toBeGreaterThanOrEqual(201);
    expect(value(`strangler_cdc_dead_letters_total{${forward}}`)).toBe(0);
    expect(value(`strangler_cdc_conflicts_total{${reverse}}`)).toBeGreaterThanOrEqual(0);
    expect(value(`strangler_cdc_lag_milliseconds{${forward}}`)).toBeGreaterThanOrEqual(0);
    expect(value(`strangler_cdc_lag_bytes{${forward}}`)).toBeGreaterThanOrEqual(0);
    expect(value(`strangler_cdc_events_per_second{${forward},side="sink"}`)).toBeGreaterThanOrEqual(0);
    expect(metrics).toContain('# TYPE strangler_cdc_applied_total counter');
  });

  it('reconcile under live writes on both sides: changes in flight settle on re-check, the result is clean', async () => {
    let writing = true;
    let written = 0;
    const writer = async (pool: Pool, column: string, prefix: string) => {
      while (writing) {
        await pool.query(`INSERT INTO users (email, ${column}) SELECT '${prefix}' || $1 || '-' || g || '@example.com', 'Live' FROM generate_series(1, 5) g`, [written++]);
      }
    };
    const writers = [writer(m, 'name', 'live-m'), writer(s, 'full_name', 'live-s')];
    const results: { clean: boolean; summary: string; inFlight: number }[] = [];
    try {
      // Until one pass has caught changes in flight (or this test would prove nothing), at most five passes.
      while (results.length < 5 && !results.some((r) => r.inFlight > 0)) {
        const rec = await post('/contexts/users/reconcile').send({ limit: 5 });
        expect(rec.status).toBe(200);
        const inFlight = rec.body.tables.reduce((n: number, t: { inFlight?: number }) => n + (t.inFlight ?? 0), 0);
        results.push({ clean: rec.body.clean, summary: rec.body.summary, inFlight });
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    expect(results.every((r) => r.clean)).toBe(true);
    expect(results.some((r) => r.inFlight > 0)).toBe(true);
    expect(results.find((r) => r.inFlight > 0)!.summary).toMatch(/reconcile clean .*change\(s\) in flight settled on re-check/);
  });

  it('refuses a bad reconcile limit with a 400 naming the field', async () => {
    const res = await post('/contexts/users/reconcile').send({ limit: -1 });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/limit/);
  });

  it('reconcile finds a row changed behind the pipeline\'s back', async () => {
    await s.query("SELECT pg_logical_emit_message(true, 'strangler.sink', 'users-forward'); UPDATE users SET full_name = 'Tampered' WHERE email = 'seed9@example.com'");
    const rec = await post('/contexts/users/reconcile');
    expect(rec.body.clean).toBe(false);
    expect(rec.body.summary).toMatch(/users: 0 missing, 0 extra, 1 different/);
  });

  it('takes the stage a context moved to (stageOwnerWins follows it, kept across restarts) and lists its conflicts; bad input is 400', async () => {
    const moved = await post('/contexts/users/stage').send({ stage: 'cutover', percent: 100 });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ context: 'users', owner: 'service' });
    expect(await registry.stages()).toEqual([{ context: 'users', stage: 'cutover', percent: 100 }]);
    const canary = await post('/contexts/users/stage').send({ stage: 'canary', percent: 10 });
    expect(canary.body).toEqual({ context: 'users', owner: 'monolith' });

    const bad = await post('/contexts/users/stage').send({ stage: 'halfway', percent: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/stage/);
    expect((await post('/contexts/nope/stage').send({ stage: 'shadow', percent: 0 })).status).toBe(404);

    // Both sides of users were written above, but never the same row between two syncs: nothing recorded.
    const conflicts = await get('/contexts/users/conflicts?limit=5');
    expect(conflicts.status).toBe(200);
    expect(conflicts.body).toEqual({ items: [] });
    const badLimit = await get('/contexts/users/conflicts?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toMatch(/limit/);
  });

  it('unknown contexts are 404', async () => {
    const res = await post('/contexts/nope/extract');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('every route but /health needs the admin token, a local or configured Host, and JSON on POSTs', async () => {
    const routes: [string, string][] = [
      ['GET', '/pipelines'],
      ['GET', '/pipelines/users-forward'],
      ['POST', '/contexts/users/extract'],
      ['POST', '/contexts/users/reverse'],
      ['POST', '/contexts/users/sync'],
      ['POST', '/contexts/users/reconcile'],
    ];
    const refusals: string[] = [];
    const expectRefused = (what: string, res: request.Response, status: number, code: string) => {
      if (res.status !== status || res.body?.error?.code !== code) refusals.push(`${what}: ${res.status} ${res.text.slice(0, 80)}`);
    };
    for (const [method, path] of routes) {
      const call = () => (method === 'GET' ? request(server.url).get(path) : request(server.url).post(path));
      expectRefused(`${method} ${path} without a token`, await call().send(method === 'POST' ? {} : undefined), 401, 'unauthorized');
      // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 still says Host: evil.example.
      expectRefused(`${method} ${path} from evil.example`, await call().set(auth).set('host', 'evil.example:8083').send(method === 'POST' ? {} : undefined), 403, 'host_not_allowed');
      if (method === 'POST') {
        // What a cross-site form or a no-preflight fetch can send: no body, or a body that is not application/json.
        expectRefused(`${method} ${path} without a body`, await call().set(auth), 415, 'unsupported_media_type');
        expectRefused(`${method} ${path} as text/plain`, await call().set(auth).set('content-type', 'text/plain').send('{}'), 415, 'unsupported_media_type');
        expectRefused(`${method} ${path} as a form`, await call().set(auth).type('form').send({ direction: 'forward' }), 415, 'unsupported_media_type');
      }
    }
    expect(refusals).toEqual([]);
    // Prometheus scrapes /metrics without the token, as it does the facade's; a page on another name still cannot.
    expect((await request(server.url).get('/metrics')).status).toBe(200);
    expect((await request(server.url).get('/metrics').set('host', 'evil.example:8083')).status).toBe(403);
    expect((await request(server.url).get('/health')).status).toBe(200);
    expect((await get('/pipelines').set('host', 'cdc:8083')).status).toBe(200);
    expect((await get('/pipelines').set('host', `localhost:${server.port}`)).status).toBe(200);
  });

  it('answers 429 with Retry-After after too many wrong tokens from one address, the right one included', async () => {
    for (let i = 0; i < 10; i++) expect((await request(server.url).get('/pipelines').set('authorization', `Bearer wrong-${i}`)).status).toBe(401);
    const limited = await get('/pipelines');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('too_many_attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
