import { DEFAULT_PLAN_PATH, effectiveGates, loadPlan, parsePlan, PlanError } from '../load';
import { RouteTable, parseRoutePattern } from '../routes';
import { deriveStage } from '../stages';

describe('route table', () => {
  const table = new RouteTable(
    ['* /api/users', '* /api/users/:id', 'GET /api/users/:id/orders', '* /api/orders/*', 'POST /api/orders'].map((s, i) => ({
      pattern: parseRoutePattern(s),
      value: i,
    })),
  );
  const hit = (m: string, p: string) => table.match(m, p)?.pattern.source;

  it('picks the most specific route', () => {
    expect(hit('GET', '/api/users/7/orders')).toBe('GET /api/users/:id/orders');
    expect(hit('POST', '/api/users/7/orders')).toBeUndefined();
    expect(hit('DELETE', '/api/users/7')).toBe('* /api/users/:id');
    expect(hit('GET', '/api/users?email=a@b.c')).toBe('* /api/users');
    expect(hit('GET', '/api/users/')).toBe('* /api/users');
    expect(hit('POST', '/api/orders')).toBe('POST /api/orders');
    expect(hit('POST', '/api/orders/3/cancel')).toBe('* /api/orders/*');
    expect(hit('HEAD', '/api/users/1/orders')).toBe('GET /api/users/:id/orders');
  });

  it('leaves unmatched paths to the caller (the monolith)', () => {
    expect(hit('GET', '/health')).toBeUndefined();
    expect(hit('GET', '/api/usersX')).toBeUndefined();
    expect(hit('GET', '//api/users')).toBeUndefined();
  });

  it('rejects malformed patterns with a reason', () => {
    expect(() => parseRoutePattern('/api/users')).toThrow(/expected "METHOD \/path"/);
    expect(() => parseRoutePattern('FETCH /x')).toThrow(/unknown method/);
    expect(() => parseRoutePattern('GET /a/*/b')).toThrow(/last segment/);
  });
});

describe('stage derivation', () => {
  it.each([
    [{}, 'monolith', 0],
    [{ shadow: { enabled: true, rollout: 100 } }, 'shadow', 0],
    [{ shadow: { enabled: true, rollout: 100 }, route: { enabled: true, rollout: 10 } }, 'canary', 10],
    [{ route: { enabled: true, rollout: 100 } }, 'cutover', 100],
    [{ route: { enabled: false, rollout: 100 } }, 'monolith', 0],
    [{ route: { enabled: true, rollout: 0 }, shadow: { enabled: true, rollout: 50 } }, 'shadow', 0],
    [{ retired: { enabled: true, rollout: 100 }, route: { enabled: true, rollout: 10 } }, 'retired', 100],
  ])('%j is %s at %i %%', (flags, stage, percent) => {
    expect(deriveStage(flags)).toMatchObject({ stage, percent });
  });
});

describe('plan file', () => {
  it('the demo plan is valid and describes the four shop contexts', () => {
    const plan = loadPlan(DEFAULT_PLAN_PATH, {});
    expect(Object.keys(plan.contexts).sort()).toEqual(['notifications', 'orders', 'payments', 'users']);
    expect(plan.contexts.users.tables.users).toMatchObject({ table: 'users', columns: { name: 'full_name' } });
    expect(effectiveGates(plan, 'users').canary).toEqual({ minCompared: 100, maxDiffRate: 0.01, reconcileClean: true });
  });

  it('interpolates ${VAR:-default} from the environment', () => {
    const plan = loadPlan(DEFAULT_PLAN_PATH, { USERS_URL: 'http://users:3101' });
    expect(plan.contexts.users.service.url).toBe('http://users:3101');
    expect(loadPlan(DEFAULT_PLAN_PATH, {}).contexts.users.service.url).toBe('http://127.0.0.1:3101');
  });

  it('names the bad field', () => {
    const bad = `
version: 1
monolith: { url: http://127.0.0.1:3000, database: monolith }
contexts:
  users:
    service: { url: not-a-url, database: users }
    routes: ["GET /api/users", "/nope"]
`;
    expect(() => parsePlan(bad, {})).toThrow(PlanError);
    expect(() => parsePlan(bad, {})).toThrow(/contexts\.users\.service\.url: must be an http\(s\) URL/);
    expect(() => parsePlan(bad, {})).toThrow(/contexts\.users\.routes\.1: bad route "\/nope"/);
    expect(() => parsePlan('version: 1\nmonolith: {url: http://x, database: m}\ncontexts:\n  Bad-Name: {}\n', {})).toThrow(/contexts\.Bad-Name/);
  });
});

describe('plan schema for real monoliths', () => {
  const plan = (contexts: string, extra = '') => `
version: 1
monolith: { url: http://127.0.0.1:3000, database: monolith }
contexts:
${contexts}
${extra}`;
  const errors = (text: string): string[] => {
    try {
      parsePlan(text, {});
    } catch (err) {
      return (err as Error).message.replace(/^invalid plan: /, '').split('; ');
    }
    throw new Error('the plan was accepted');
  };

  it('accepts mixed-case (Sequelize) table and column names, with or without their quotes', () => {
    const p = parsePlan(
      plan(`  articles:
    service: { url: http://127.0.0.1:3101, database: articles }
    routes: ["GET /api/articles"]
    tables:
      Articles: { table: '"Articles"', columns: { '"createdAt"': publishedAt }, drop: [updatedAt] }
      '"Users"': { table: Users, reference: true }`),
      {},
    );
    expect(p.contexts.articles.tables).toMatchObject({
      Articles: { table: 'Articles', columns: { createdAt: 'publishedAt' }, drop: ['updatedAt'] },
      Users: { table: 'Users', reference: true },
    });
    expect(p.contexts.articles.tables.Articles.reference).toBeUndefined();
    expect(errors(plan(`  a:
    service: { url: http://127.0.0.1:3101, database: a }
    routes: ["GET /a"]
    tables: { t: { table: "bad-name" } }`))).toEqual([expect.stringMatching(/^contexts\.a\.tables\.t\.table: must be a table name/)]);
  });

  it('resolves ${VAR} and ${VAR:-default} inside YAML flow maps, keys included', () => {
    const text = plan(`  users:
    service: { url: \${USERS_URL:-http://127.0.0.1:3101}, database: \${USERS_DB} }
    routes: [ "GET /api/users" ]
    tables: { \${USERS_TABLE:-users}: { table: \${USERS_TABLE:-users} } }`);
    const p = parsePlan(text, { USERS_DB: 'postgres://u:p@db:5432/users?x={y}' });
    expect(p.contexts.users.service).toEqual({ url: 'http://127.0.0.1:3101', database: 'postgres://u:p@db:5432/users?x={y}' });
    expect(Object.keys(p.contexts.users.tables)).toEqual(['users']);
    expect(() => parsePlan(text, {})).toThrow('plan uses ${USERS_DB} but it is not set');
  });

  it('rejects unknown keys one error each, naming the field and the nearest valid key', () => {
    expect(
      errors(
        plan(`  users:
    service: { url: http://127.0.0.1:3101, database: users, timeout: 3 }
    routes: ["GET /api/users"]
    shadow: { write: dryRun, ignor: [] }
    tables: { users: { table: users, refrence: true } }`),
      ),
    ).toEqual([
      'contexts.users.service.timeout: unknown key (valid keys: url, database)',
      'contexts.users.tables.users.refrence: unknown key (did you mean "reference"?)',
      'contexts.users.shadow.write: unknown key (did you mean "writes"?)',
      'contexts.users.shadow.ignor: unknown key (did you mean "ignore"?)',
    ]);
    expect(errors(plan(`  users: { service: { url: http://x, database: u }, routes: ["GET /u"] }`, 'default: {}'))).toEqual([
      'default: unknown key (did you mean "defaults"?)',
    ]);
  });

  it('reports wrong types and ambiguous routes one per problem', () => {
    expect(
      errors(
        plan(`  a:
    service: { url: http://127.0.0.1:3101, database: a }
    routes: ["GET /api/items/:id", "* /api/a"]
    shadow: { writes: always }
  b:
    service: { url: http://127.0.0.1:3102, database: b }
    routes: ["GET /api/Items/:key", "GET /api/a", "* /api/a"]`),
      ),
    ).toEqual([
      'contexts.a.shadow.writes: Invalid option: expected one of "none"|"dryRun"',
      'contexts.b.routes.0: route "GET /api/Items/:key" is ambiguous: contexts.a.routes.0 ("GET /api/items/:id") matches the same requests',
      'contexts.b.routes.2: route "* /api/a" is ambiguous: contexts.a.routes.1 ("* /api/a") matches the same requests',
    ]);
  });

  it('defaults shadow writes to none and takes dryRun', () => {
    const p = parsePlan(
      plan(`  a:
    service: { url: http://127.0.0.1:3101, database: a }
    routes: ["GET /a"]
  b:
    service: { url: http://127.0.0.1:3102, database: b }
    routes: ["POST /b"]
    shadow: { writes: dryRun }`),
      {},
    );
    expect(p.contexts.a.shadow.writes).toBe('none');
    expect(p.contexts.b.shadow.writes).toBe('dryRun');
    expect(p.stickiness).toBeUndefined();
  });

  it('takes stickiness sources in order and rejects a source that is not exactly one kind', () => {
    const ctx = `  a: { service: { url: http://127.0.0.1:3101, database: a }, routes: ["GET /a"] }`;
    const p = parsePlan(
      plan(
        ctx,
        `stickiness:
  from:
    - header: X-Account
    - cookie: sid
    - jwt: { claim: user.id, schemes: [Token, Bearer], secret: s3cret }
  fallback: address`,
      ),
      {},
    );
    expect(p.stickiness).toEqual({
      from: [{ header: 'x-account' }, { cookie: 'sid' }, { jwt: { claim: 'user.id', schemes: ['Token', 'Bearer'], secret: 's3cret' } }],
      fallback: 'address',
    });
    expect(parsePlan(plan(ctx, 'stickiness: { from: [ { jwt: { claim: sub } } ] }'), {}).stickiness).toEqual({
      from: [{ jwt: { claim: 'sub', schemes: ['Bearer'] } }],
      fallback: 'none',
    });
    expect(errors(plan(ctx, 'stickiness: { from: [ { header: a, cookie: b }, {}, { jwt: { claim: sub, jwks: x } } ], fallback: ip }'))).toEqual([
      'stickiness.from.0: give exactly one of header, cookie or jwt (got header and cookie)',
      'stickiness.from.1: give exactly one of header, cookie or jwt',
      'stickiness.from.2.jwt.jwks: unknown key (did you mean "jwksUrl"?)',
      'stickiness.fallback: Invalid option: expected one of "address"|"none"',
    ]);
  });
});
