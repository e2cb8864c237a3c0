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
