import { createLogger } from '../../../../lib/logger';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { DiffStore } from '../diff-store';
import type { DiffRow } from '../diff-rows';

const logger = createLogger('diff-groups-test', 'silent');
const ITEMS = '* /api/orders/:id';
const USERS = '* /api/users/:id';

function row(route: string, path: string, diffs: DiffRow['diffs'], noise: string[] = []): DiffRow {
  return { context: 'shop', route, method: 'GET', path, requestId: `r-${path}`, monolithStatus: 200, serviceStatus: 200, diffs, noise };
}

describe('DiffStore.groups (Diffy-style grouping in the real database)', () => {
  let db: TestDatabase;
  let store: DiffStore;
  beforeAll(async () => {
    db = await createTestDatabase('diffgroups');
    store = await DiffStore.open(db.url, logger);
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('groups per route, then per JSON path with array indexes folded, counts identical diffs once with their count', async () => {
    for (let i = 0; i < 10; i++) store.count('shop', USERS, i < 4 ? 'diff' : 'matched');
    for (let i = 0; i < 4; i++) store.count('shop', ITEMS, 'diff', i === 0);
    // Three requests show the same name difference; a fourth a different one.
    for (const id of [2, 3, 4]) store.record(row(USERS, `/api/users/${id}`, [{ path: '$.name', monolith: 'Ada Lovelace', service: 'Ada L.' }]));
    store.record(row(USERS, '/api/users/5', [{ path: '$.name', monolith: 'Grace', service: 'G.' }, { path: '$.email', monolith: 'g@x', service: null, missing: 'service' }]));
    // Items at different indexes are one path; the marker of omitted diffs is not a path.
    store.record(row(ITEMS, '/api/orders/1', [{ path: '$.items[0].sku', monolith: 'A', service: 'a' }, { path: '$diffs.omitted', monolith: null, service: null, omitted: 3 }], ['$.createdAt']));
    store.record(row(ITEMS, '/api/orders/2', [{ path: '$.items[3].sku', monolith: 'B', service: 'b' }]));
    store.record(row(ITEMS, '/api/orders/3', [{ path: '$.total', monolith: 10, service: 10.0001 }]));
    store.record(row(ITEMS, '/api/orders/4', [{ path: '$.total', monolith: 10, service: 10.0001 }]));
    store.count('other', USERS, 'diff');
    store.record({ ...row(USERS, '/api/users/9', [{ path: '$.name', monolith: 'x', service: 'y' }]), context: 'other' });

    const g = await store.groups('shop', { examples: 3, limit: 100 });
    expect(g).toMatchObject({ context: 'shop', compared: 14, diffs: 8, errors: 0 });
    expect(g.routes.map((r) => [r.route, r.compared, r.paths.map((p) => [p.path, p.count, p.distinct])])).toEqual([
      [ITEMS, 4, [['$.items[*].sku', 2, 2], ['$.total', 2, 1]]],
      [USERS, 10, [['$.name', 4, 2], ['$.email', 1, 1]]],
    ]);
    const name = g.routes[1].paths[0];
    expect(name.share).toBeCloseTo(0.4);
    expect(Date.parse(name.firstSeen)).toBeLessThanOrEqual(Date.parse(name.lastSeen));
    // Newest pair first; the repeated pair once, with how often it was seen.
    expect(name.examples.map((e) => [e.monolith, e.service, e.count, e.request.path])).toEqual([
      ['Grace', 'G.', 1, '/api/users/5'],
      ['Ada Lovelace', 'Ada L.', 3, '/api/users/4'],
    ]);
    expect(g.routes[1].paths[1].examples[0]).toMatchObject({ missing: 'service', concretePath: '$.email' });
    expect(g.routes[0].paths[0].examples.map((e) => e.concretePath)).toEqual(['$.items[3].sku', '$.items[0].sku']);
    expect(g.noise).toEqual([{ route: ITEMS, path: '$.createdAt', count: 1, lastSeen: expect.any(String) }]);

    expect((await store.groups('shop', { examples: 1, limit: 1 })).routes).toHaveLength(1);
    await store.reset('shop');
    expect(await store.groups('shop', { examples: 3, limit: 100 })).toEqual({ context: 'shop', compared: 0, diffs: 0, errors: 0, routes: [], noise: [] });
    expect((await store.groups('other', { examples: 3, limit: 100 })).routes[0].paths[0].path).toBe('$.name');
  });
});
