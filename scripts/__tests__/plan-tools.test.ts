import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { createLogger } from '../../lib/logger';
import { loadPlan } from '../../control/plan';
import { migrations } from '../../monolith/src/db/migrations';
import { MONOLITH_SCHEMA } from '../../examples/library/schema';
import { startLibrary, type RunningLibrary } from '../../examples/library/start';
import { runCli, tempStackHome } from '../../test/harness/cli';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { planTargets } from '../load/workload';

/** `strangler init` and `strangler plan check` against real databases, as a user runs them. */
jest.setTimeout(180_000);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-plan-tools-'));
const home = tempStackHome();
const cli = async (args: string[], env: Record<string, string> = {}) => {
  const run = runCli(args, { STRANGLER_HOME: home, ...env });
  const { code } = await run.exited();
  return { code, out: run.output() };
};

async function sql(url: string, text: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

const dbs: TestDatabase[] = [];
async function database(prefix: string, schema?: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  dbs.push(db);
  if (schema) await sql(db.url, schema);
  return db;
}

afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

describe('strangler init', () => {
  it('drafts the shop as four contexts, order_items owned by orders, with the foreign keys to break, and the draft loads', async () => {
    const db = await database('shop');
    const logger = createLogger('init-test', 'silent');
    const sequelize = createSequelize(db.url, logger);
    await migrate(sequelize, migrations, logger);
    await sequelize.close();
    const out = path.join(tmp, 'shop.plan.yaml');
    const run = await cli(['init', '--database', db.url, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('6 tables, 4 foreign keys → 4 candidate contexts');
    expect(run.out).toMatch(/\norders +orders, order_items +- +- +users\n/);
    expect(run.out).toContain('coupling to break: payments.order_id → orders.id (payments → orders)');
    expect(run.out).toContain('left out: schema_migrations — migration bookkeeping');
    const plan = loadPlan(out, {});
    // Leaves first: what nothing depends on comes before what everything depends on.
    expect(Object.keys(plan.contexts)).toEqual(['notifications', 'payments', 'orders', 'users']);
    expect(Object.keys(plan.contexts.orders.tables)).toEqual(['orders', 'order_items']);
    expect(fs.readFileSync(out, 'utf8')).toContain('DECIDE:');
    expect(fs.readFileSync(out, 'utf8')).not.toContain(`:${new URL(db.url).password}@`);
  });

  it('drafts the library from its schema and OpenAPI: genres as reference data, routes and write examples per context', async () => {
    const db = await database('library', MONOLITH_SCHEMA);
    const out = path.join(tmp, 'library.plan.yaml');
    const run = await cli(['init', '--database', db.url, '--openapi', 'examples/library/openapi.json', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('reference tables (read by contexts, written by none): genres');
    expect(run.out).toContain('route for no context (stays on the monolith): GET /health');
    const plan = loadPlan(out, {});
    expect(Object.keys(plan.contexts)).toEqual(['loans', 'books', 'members']);
    expect(Object.keys(plan.contexts.books.tables)).toEqual(['books', 'book_tags', 'genres']);
    expect(plan.contexts.books.routes.map((r) => r.source)).toEqual(['GET /api/genres', 'GET /api/books', 'POST /api/books', 'GET /api/books/:id', 'PATCH /api/books/:id']);
    expect(plan.contexts.loans.routes.map((r) => r.source)).toContain('GET /api/members/:id/loans');
    // A field named after a table takes a real key of it when load sends the example.
    expect(plan.contexts.loans.load?.examples['POST /api/loans']).toEqual({ bookId: '{{key books.id}}', memberId: '{{key members.id}}' });
    const targets = planTargets(plan, ['loans'], [{ name: 'loans', primaryKey: ['id'] }, { name: 'books', primaryKey: ['id'] }, { name: 'members', primaryKey: ['id'] }]);
    expect(targets.targets.map((t) => t.route)).toContain('POST /api/loans');
  });

  it('still writes a loadable draft for no foreign keys, a table without a key and hundreds of tables, listing each problem', async () => {
    const tables = Array.from({ length: 150 }, (_, i) => `CREATE TABLE t${i} (id serial PRIMARY KEY, v text);`).join('\n');
    const db = await database('wide', `${tables}\nCREATE TABLE event_log (at timestamptz, line text);`);
    const out = path.join(tmp, 'wide.plan.yaml');
    const run = await cli(['init', '--database', db.url, '--out', out]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('problem: no foreign keys: every table became a context of its own');
    expect(run.out).toContain('problem: 151 tables');
    expect(run.out).toContain('left out: event_log — no primary key');
    expect(Object.keys(loadPlan(out, {}).contexts)).toHaveLength(150);
  });

  it('says in one line what is wrong with its input', async () => {
    expect(await cli(['init', '--database', 'mysql://x'])).toEqual({ code: 1, out: 'strangler: --database must be a postgres:// URL, got "mysql://x"\n' });
    const down = await cli(['init', '--database', 'postgres://u:secret@127.0.0.1:9/db']);
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/^strangler: cannot read the schema of postgres:\/\/u:\*\*\*@127\.0\.0\.1:9\/db: .+\n$/);
    const db = await database('noapi');
    const noDoc = await cli(['init', '--database', db.url, '--openapi', path.join(tmp, 'missing.json')]);
    expect(noDoc.out.trim()).toMatch(/^strangler: cannot read the OpenAPI document .*missing\.json: ENOENT$/);
  });
});

describe('strangler plan check', () => {
  let library: RunningLibrary;
  let env: Record<string, string>;
  let monolith: TestDatabase;

  beforeAll(async () => {
    const [m, c, l] = await Promise.all([database('library'), database('catalog'), database('lending')]);
    monolith = m;
    library = await startLibrary({ monolith: m.url, catalog: c.url, lending: l.url });
    env = { LIBRARY_URL: library.urls.monolith, CATALOG_URL: library.urls.catalog, LENDING_URL: library.urls.lending, LIBRARY_DATABASE: m.url, CATALOG_DATABASE: c.url, LENDING_DATABASE: l.url };
  });
  afterAll(() => library?.stop());

  it('passes the library plan, one line per check', async () => {
    const { code, out } = await cli(['plan', 'check', '--plan', 'examples/library/plan.yaml'], env);
    expect(code).toBe(0);
    expect(out).toContain('pass  wal_level monolith: logical');
    expect(out).toContain('pass  columns catalog: books → books: 7 column(s) map, types compatible');
    expect(out).toContain('pass  columns catalog: book_tags → books: embedded as books.tags');
    expect(out).toContain('pass  route catalog: GET /api/genres on catalog: HTTP 200');
    expect(out).toMatch(/\nall \d+ checks pass\n$/);
  });

  it('fails what is wrong with a remedy each, changes nothing without --apply, and --apply sets REPLICA IDENTITY FULL', async () => {
    await sql(monolith.url, 'CREATE TABLE IF NOT EXISTS event_log (at timestamptz, line text)');
    const plan = fs.readFileSync('examples/library/plan.yaml', 'utf8')
      .replace('columns: { author_name: author }', 'columns: { author_name: writer }')
      .replace('genres: { table: genres, reference: true }', 'genres: { table: genres, reference: true }\n      event_log: { table: event_log }');
    const file = path.join(tmp, 'broken.plan.yaml');
    fs.writeFileSync(file, plan);
    const broken = { ...env, LENDING_URL: 'http://127.0.0.1:9' };
    const first = await cli(['plan', 'check', '--plan', file], broken);
    expect(first.code).toBe(1);
    expect(first.out).toMatch(/(^|\n)FAIL {2}url lending service: http:\/\/127\.0\.0\.1:9 does not answer: .+ — fix: start it, or fix its url in the plan\n/);
    expect(first.out).toContain('FAIL  columns catalog: books → books: books.author_name → books.writer: missing on the service (map it under columns, or list it in drop)');
    expect(first.out).toContain('FAIL  table monolith.event_log: has no primary key: rows cannot be matched across databases — fix: add a primary key');
    expect(first.out).toContain('FAIL  replica identity monolith.event_log: DEFAULT without a primary key: once published, UPDATE and DELETE on it fail — fix: strangler plan check --apply (sets REPLICA IDENTITY FULL)');

    const json = await cli(['plan', 'check', '--plan', file, '--json'], broken);
    const body = JSON.parse(json.out) as { ok: boolean; checks: { name: string; ok: boolean; remedy?: string }[] };
    expect(body.ok).toBe(false);
    expect(body.checks.filter((c) => !c.ok).every((c) => typeof c.remedy === 'string')).toBe(true);

    const applied = await cli(['plan', 'check', '--plan', file, '--apply'], broken);
    expect(applied.out).toContain('pass  replica identity monolith.event_log: was DEFAULT — applied: ALTER TABLE "event_log" REPLICA IDENTITY FULL');
    const again = await cli(['plan', 'check', '--plan', file], broken);
    expect(again.out).toContain('pass  replica identity monolith.event_log: FULL');
  });
});
