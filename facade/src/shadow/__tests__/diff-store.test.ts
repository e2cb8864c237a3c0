import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { dropDatabase, ensureDatabase } from '../../../../lib/db/admin';
import { withDatabase } from '../../../../lib/db/urls';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { compareResponses, type Captured } from '../compare';
import { compileRules } from '../rules';
import { DiffStore, DiffStoreUnavailableError } from '../diff-store';
import { diffRow, errorRow, type DiffRow } from '../diff-rows';

const logger = createLogger('diff-store-test', 'silent');

function json(body: unknown, status = 200): Captured {
  return { status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

function row(context: string, path: string): DiffRow {
  return { context, route: '* /api/users/:id', method: 'GET', path, requestId: `r-${path}`, monolithStatus: 200, serviceStatus: 200, diffs: [{ path: '$.x', monolith: 1, service: 2 }] };
}

describe('DiffStore', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('shadow');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('stores a redacted diff with both values and lists diffs newest first, per context', async () => {
    const store = await DiffStore.open(db.url, logger);
    try {
      const rules = compileRules({ redact: ['email'], ignore: ['$.updatedAt'] });
      const monolith = json({ id: 7, email: 'ann@example.com', name: 'Ann', updatedAt: 1 });
      const service = json({ id: 7, email: 'ann@example.org', name: 'Anne', updatedAt: 2 });
      const result = compareResponses({ route: '* /api/users/:id', method: 'GET', monolith, service, rules });
      const request = { context: 'users', route: '* /api/users/:id', method: 'GET', path: '/api/users/7', requestId: 'req-1' };
      store.record(diffRow(request, monolith, service, result, rules.redact));
      store.record(row('orders', '/api/orders/1'));
      store.record(row('users', '/api/users/8'));

      const all = await store.list({ limit: 10 });
      expect(all.map((d) => d.path)).toEqual(['/api/users/8', '/api/orders/1', '/api/users/7']);
      const users = await store.list({ context: 'users', limit: 1 });
      expect(users.map((d) => d.path)).toEqual(['/api/users/8']);

      const [first] = (await store.list({ context: 'users' })).slice(-1);
      expect(first).toMatchObject({
        context: 'users',
        route: '* /api/users/:id',
        method: 'GET',
        path: '/api/users/7',
        requestId: 'req-1',
        monolithStatus: 200,
        serviceStatus: 200,
        diffs: [
          { path: '$.email', monolith: '[redacted]', service: '[redacted]' },
          { path: '$.name', monolith: 'Ann', service: 'Anne' },
        ],
        ignored: ['$.updatedAt'],
        noise: [],
      });
      expect(Date.parse(first.createdAt)).not.toBeNaN();
      expect(JSON.stringify(await store.list())).not.toContain('ann@example');
    } finally {
      await store.close();
    }
  });

  it('stores text Postgres would refuse (NUL) instead of wedging the buffer', async () => {
    const store = await DiffStore.open(db.url, logger);
    try {
      store.record({ ...row('nul', '/a\u0000b'), diffs: [{ path: '$body', monolith: 'a\u0000b', service: 'a\\u0000b' }] });
      const [stored] = await store.list({ context: 'nul' });
      expect(stored.path).toBe('/a\uFFFDb');
      expect(stored.diffs[0]).toEqual({ path: '$body', monolith: 'a\uFFFDb', service: 'a\\u0000b' });
      expect(store.health()).toMatchObject({ ready: true, buffered: 0, dropped: 0 });
    } finally {
      await store.close();
    }
  });

  it('keeps counts per context and per route, and they survive a restart', async () => {
    let store = await DiffStore.open(db.url, logger);
    store.count('payments', 'GET /api/payments', 'matched');
    store.count('payments', 'GET /api/payments', 'matched', true);
    store.count('payments', 'GET /api/payments', 'diff');
    store.count('payments', 'GET /api/payments/:id', 'error');
    const expected = {
      compared: 4,
      matched: 2,
      diffs: 1,
      errors: 1,
      noise: 1,
      diffRate: 0.5,
      routes: {
        'GET /api/payments': { compared: 3, matched: 2, diffs: 1, errors: 0, noise: 1, diffRate: 1 / 3 },
        'GET /api/payments/:id': { compared: 1, matched: 0, diffs: 0, errors: 1, noise: 0, diffRate: 1 },
      },
    };
    expect((await store.counts()).contexts.payments).toEqual(expected);
    await store.close();

    store = await DiffStore.open(db.url, logger);
    try {
      expect((await store.counts()).contexts.payments).toEqual(expected);
      store.count('payments', 'GET /api/payments', 'matched');
      expect((await store.counts()).contexts.payments).toMatchObject({ compared: 5, matched: 3 });
    } finally {
      await store.close();
    }
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT route, compared::int FROM shadow_counts WHERE context = 'payments' ORDER BY route");
      expect(rows).toEqual([
        { route: 'GET /api/payments', compared: 4 },
        { route: 'GET /api/payments/:id', compared: 1 },
      ]);
    } finally {
      await client.end();
    }
  });

  it('never throws into the caller when its database goes away, and keeps a bounded buffer', async () => {
    const doomed = await createTestDatabase('shadow_gone');
    const store = await DiffStore.open(doomed.url, logger, { maxBuffer: 3, flushIntervalMs: 20 });
    try {
      store.record(row('users', '/before'));
      expect(await store.list()).toHaveLength(1);
      await doomed.drop();

      for (let i = 0; i < 5; i++) store.record(row('users', `/after/${i}`));
      store.count('users', '* /api/users/:id', 'diff');
      store.record(errorRow({ context: 'users', route: '* /api/users/:id', method: 'GET', path: '/x' }, json({}), 'connect ECONNREFUSED'));
      await store.flush();
      await eventually(() => expect(store.health()).toMatchObject({ ready: false, buffered: 3, dropped: 3 }), 5000, 20);
      expect(store.health().lastError).toBeTruthy();
      await expect(store.list()).rejects.toBeInstanceOf(DiffStoreUnavailableError);
      expect((await store.counts()).contexts.users).toMatchObject({ compared: 1, diffs: 1 });
    } finally {
      await store.close();
    }
  });

  it('starts without its database and catches up, newest rows kept, once the database exists', async () => {
    const name = `shadow_late_${Date.now().toString(36)}`;
    const url = withDatabase(testServerUrl(), name);
    const store = await DiffStore.open(url, logger, { flushIntervalMs: 20 });
    try {
      expect(store.health().ready).toBe(false);
      store.record(row('orders', '/api/orders/9'));
      store.count('orders', '* /api/orders/:id', 'diff');
      await ensureDatabase(testServerUrl(), name);
      await eventually(() => expect(store.health()).toMatchObject({ ready: true, buffered: 0 }), 15_000, 50);
      expect((await store.list()).map((d) => d.path)).toEqual(['/api/orders/9']);
      expect((await store.counts()).contexts.orders.compared).toBe(1);
    } finally {
      await store.close();
      await dropDatabase(testServerUrl(), name);
    }
  });
});
