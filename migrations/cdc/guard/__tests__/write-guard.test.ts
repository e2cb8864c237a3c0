import { Pool } from 'pg';
import request from 'supertest';
import { createLogger } from '../../../../lib/logger';
import { listen, type RunningServer } from '../../../../lib/http/server';
import { withDatabase } from '../../../../lib/db/urls';
import { parsePlan } from '../../../../control/plan';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { createWorkerApp } from '../../worker/app';
import { PipelineRegistry } from '../../worker/registry';
import { CdcWorker } from '../../worker/worker';

const TOKEN = 'test-cdc-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

jest.setTimeout(120_000);

// A Sequelize-style schema: quoted mixed-case tables and columns, UUID keys, and reference data the service only reads.
const SCHEMA = `
  CREATE TABLE "Users" (id serial PRIMARY KEY, "userName" text NOT NULL);
  CREATE TABLE "Articles" (id uuid PRIMARY KEY, title text NOT NULL, "authorId" integer NOT NULL, "createdAt" timestamptz NOT NULL DEFAULT now());
`;

describeWithKafka('CDC write guard: dry-run violations and reference tables (real Postgres and Kafka)', () => {
  let monolithDb: TestDatabase;
  let serviceDb: TestDatabase;
  let cdcDb: TestDatabase;
  let registry: PipelineRegistry;
  let worker: CdcWorker;
  let server: RunningServer;
  let m: Pool;
  let s: Pool;

  beforeAll(async () => {
    [monolithDb, serviceDb, cdcDb] = await Promise.all([createTestDatabase('mono'), createTestDatabase('blog'), createTestDatabase('cdc')]);
    m = new Pool({ connectionString: monolithDb.url, max: 2 });
    s = new Pool({ connectionString: serviceDb.url, max: 2 });
    await Promise.all([m.query(SCHEMA), s.query(SCHEMA)]);
    await m.query(`INSERT INTO "Users" ("userName") SELECT 'user' || g FROM generate_series(1, 5) g`);
    await m.query(`INSERT INTO "Articles" (id, title, "authorId") SELECT gen_random_uuid(), 'Article ' || g, 1 + g % 5 FROM generate_series(1, 20) g`);
    const plan = parsePlan(`
version: 1
monolith: { url: http://127.0.0.1:9, database: "${monolithDb.url}" }
contexts:
  articles:
    service: { url: http://127.0.0.1:9, database: "${serviceDb.url}" }
    routes: ["* /api/articles"]
    tables:
      '"Articles"': { table: '"Articles"' }
      Users: { table: Users, reference: true }
    shadow: { writes: dryRun }
`);
    registry = await PipelineRegistry.open(cdcDb.url);
    worker = new CdcWorker(plan, withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, createLogger('cdc', 'silent'));
    server = await listen(createWorkerApp(worker, registry, createLogger('cdc', 'silent'), { adminToken: TOKEN }), 0);
  });
  afterAll(async () => {
    await worker?.stop();
    await server?.close();
    await registry?.close();
    await m?.end();
    await s?.end();
    await Promise.all([monolithDb?.drop(), serviceDb?.drop(), cdcDb?.drop()]);
  });

  const count = async (pool: Pool, sql: string) => Number((await pool.query(sql)).rows[0].n);
  const guard = async () => {
    const res = await request(server.url).get('/guards').set(auth).expect(200);
    return res.body.items.find((g: { context: string }) => g.context === 'articles');
  };
  const sync = async (direction: 'forward' | 'reverse') =>
    expect((await request(server.url).post('/contexts/articles/sync').set(auth).send({ direction, timeoutMs: 20_000 })).body.caughtUp).toBe(true);

  it('extraction arms the guard, and the sink still applies the snapshot and live changes of mixed-case tables', async () => {
    await request(server.url).post('/contexts/articles/extract').set(auth).send({}).expect(200);
    await sync('forward');
    expect(await count(s, 'SELECT count(*) AS n FROM "Articles"')).toBe(20);
    expect(await count(s, 'SELECT count(*) AS n FROM "Users"')).toBe(5);
    await m.query(`INSERT INTO "Users" ("userName") VALUES ('late')`);
    await m.query(`UPDATE "Articles" SET title = 'Edited in the monolith' WHERE title = 'Article 1'`);
    await sync('forward');
    expect(await count(s, `SELECT count(*) AS n FROM "Users" WHERE "userName" = 'late'`)).toBe(1);
    expect(await count(s, `SELECT count(*) AS n FROM "Articles" WHERE title = 'Edited in the monolith'`)).toBe(1);
    expect(await guard()).toMatchObject({
      violations: 0,
      lastViolation: null,
      tables: [
        { table: 'Articles', reference: false, armed: true, violations: 0 },
        { table: 'Users', reference: true, armed: true, violations: 0 },
      ],
    });
  });

  it('a dry run (the request in a transaction that is rolled back) is no violation', async () => {
    const c = await s.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO "Articles" (id, title, "authorId") VALUES (gen_random_uuid(), 'dry', 1)`);
      await c.query(`UPDATE "Users" SET "userName" = 'dry' WHERE id = 1`);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    expect((await guard()).violations).toBe(0);
  });

  it('a write the service commits in shadow is refused and counted; nothing of it lands', async () => {
    await expect(s.query(`INSERT INTO "Articles" (id, title, "authorId") VALUES (gen_random_uuid(), 'committed anyway', 1)`)).rejects.toMatchObject({
      code: 'SG001',
      message: expect.stringContaining('articles is in shadow: its writes must be dry runs'),
    });
    // Several rows in one transaction: refused as one.
    await expect(s.query(`DELETE FROM "Articles" WHERE "authorId" = 2`)).rejects.toMatchObject({ code: 'SG001' });
    expect(await count(s, `SELECT count(*) AS n FROM "Articles" WHERE title = 'committed anyway'`)).toBe(0);
    expect(await count(s, 'SELECT count(*) AS n FROM "Articles"')).toBe(20);
    const g = await guard();
    expect(g).toMatchObject({ violations: 2, lastViolation: { table: 'Articles', operation: 'DELETE' } });
    expect(Date.now() - Date.parse(g.lastViolation.at)).toBeLessThan(60_000);
    expect(g.tables.find((t: { table: string }) => t.table === 'Articles')).toMatchObject({ violations: 2, lastViolation: { operation: 'DELETE' } });
  });

  it('from canary on the service writes its own tables, never reference tables, and reference tables are not reverse-synced', async () => {
    await request(server.url).post('/contexts/articles/reverse').set(auth).send({}).expect(200);
    const { rows: published } = await s.query(`SELECT tablename FROM pg_publication_tables WHERE pubname = 'strangler_articles_reverse'`);
    expect(published.map((r) => r.tablename)).toEqual(['Articles']);

    await s.query(`INSERT INTO "Articles" (id, title, "authorId") VALUES (gen_random_uuid(), 'written by the service', 3)`);
    await expect(s.query(`UPDATE "Users" SET "userName" = 'renamed by the service' WHERE id = 2`)).rejects.toMatchObject({
      code: 'SG001',
      message: expect.stringContaining('Users is reference data of articles'),
    });
    await sync('reverse');
    expect(await count(m, `SELECT count(*) AS n FROM "Articles" WHERE title = 'written by the service'`)).toBe(1);
    expect(await count(m, `SELECT count(*) AS n FROM "Users" WHERE "userName" = 'renamed by the service'`)).toBe(0);
    const g = await guard();
    expect(g).toMatchObject({ violations: 3, lastViolation: { table: 'Users', operation: 'UPDATE' } });
    expect(g.tables).toEqual([
      expect.objectContaining({ table: 'Articles', armed: false, violations: 2 }),
      expect.objectContaining({ table: 'Users', armed: true, violations: 1 }),
    ]);
  });

  it('reconcile covers reference tables', async () => {
    // Drift that did not come through the service (e.g. a manual fix on one side), written as the sink writes.
    const c = await s.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      await c.query(`UPDATE "Users" SET "userName" = 'drifted' WHERE id = 3`);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const res = await request(server.url).post('/contexts/articles/reconcile').set(auth).send({});
    expect(res.status).toBe(200);
    expect(res.body.clean).toBe(false);
    expect(res.body.summary).toContain('Users: 0 missing, 0 extra, 1 different');
    expect(res.body.summary).not.toContain('Articles');
  });

  it('a rollback to shadow arms the guard again after its grace; a reset forgets the count', async () => {
    await request(server.url).post('/contexts/articles/guard').set(auth).send({ armed: true, graceMs: 60_000 }).expect(200);
    // Within the grace a request the service took in canary still commits.
    await s.query(`INSERT INTO "Articles" (id, title, "authorId") VALUES (gen_random_uuid(), 'in flight at the rollback', 1)`);
    await request(server.url).post('/contexts/articles/guard').set(auth).send({ armed: true }).expect(200);
    await expect(s.query(`INSERT INTO "Articles" (id, title, "authorId") VALUES (gen_random_uuid(), 'after', 1)`)).rejects.toMatchObject({ code: 'SG001' });
    await eventually(async () => expect((await guard()).violations).toBe(4));
    await request(server.url).post('/contexts/articles/guard/reset').set(auth).send({}).expect(200);
    expect(await guard()).toMatchObject({ violations: 0, lastViolation: null });
    await request(server.url).post('/contexts/nope/guard').set(auth).send({ armed: true }).expect(404);
    await request(server.url).post('/contexts/articles/guard').set(auth).send({ armed: 'yes' }).expect(400);
  });
});
