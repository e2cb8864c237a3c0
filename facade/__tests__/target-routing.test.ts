import fc from 'fast-check';
import express from 'express';
import { listen, type RunningServer } from '../../lib/http/server';
import { RouteTable } from '../../control/plan';
import { head, rawExchange } from '../../test/faults/support/raw-http';
import { startTestFacade, testPlan, type TestFacade } from '../testing';

jest.setTimeout(120_000);

/**
 * The upstream's own router: Express, with a route for every route of the plan in the facade's order of specificity
 * (Express takes the first match), each answering which context it belongs to.
 */
function planRouter(plan: ReturnType<typeof testPlan>): express.Express {
  const entries = Object.entries(plan.contexts).flatMap(([name, ctx]) => ctx.routes.map((pattern) => ({ pattern, value: name })));
  const app = express();
  for (const { pattern, value } of new RouteTable(entries).all().map((r) => ({ pattern: r.pattern, value: r.value }))) {
    const method = pattern.method === '*' ? 'all' : (pattern.method.toLowerCase() as 'get');
    const path = pattern.path.endsWith('/*') ? `${pattern.path.slice(0, -2)}{/*rest}` : pattern.path;
    app[method](path, (req, res) => {
      res.setHeader('x-matched-context', value);
      res.json({ context: value, url: req.url });
    });
  }
  app.use((req, res) => {
    res.setHeader('x-matched-context', 'none');
    res.json({ context: 'none', url: req.url });
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.setHeader('x-matched-context', 'error');
    res.status(400).json({ error: { code: 'upstream_error', message: err.message } });
  });
  return app;
}

describe('no spelling of a request escapes the plan: the facade routes on the path the upstream acts on', () => {
  let upstream: RunningServer;
  let facade: TestFacade;
  beforeAll(async () => {
    const plan = testPlan({ monolith: 'http://127.0.0.1:9' });
    upstream = await listen(planRouter(plan), 0);
    const url = upstream.url;
    // No Unleash: everything goes to the monolith, and x-strangler-context still says which context the facade chose.
    facade = await startTestFacade({ plan: testPlan({ monolith: url, users: url, orders: url, payments: url, notifications: url }) });
  });
  afterAll(async () => {
    await facade?.destroy();
    await upstream?.close();
  });

  const segment = fc.oneof(
    fc.constantFrom('api', 'users', 'orders', 'payments', 'notifications', 'cancel', '1', '42', 'x', ''),
    fc.constantFrom('API', 'Users', 'ORDERS', 'pAyments', '%75sers', 'user%73', '%2e', '%2E%2e', '.', '..', '%2F', '%5C', '%41', '%ff', '%zz', '%'),
    fc.constantFrom('users;x', '1;jsessionid=a', 'é', 'usérs', '%C3%A9', 'ｕsers', 'K', 'users#x', '1#/../../x', 'users\\1', '\\', '~1', '-'),
  );
  const separator = fc.constantFrom('/', '/', '/', '//', '\\', '/./', '/../', '///');
  const suffix = fc.constantFrom('', '', '/', '?limit=1', '#x', '?a=1#b', '?q=\\', '?x=%2F', '/#');
  const targetArb = fc
    .tuple(fc.array(fc.tuple(separator, segment), { minLength: 1, maxLength: 5 }), suffix, fc.constantFrom('', 'http://evil.example'))
    .map(([parts, end, prefix]) => prefix + parts.map(([sep, seg]) => sep + seg).join('') + end);
  const methodArb = fc.constantFrom('GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT');

  it('for generated targets (#, \\, %-escapes, ;, dot segments, repeated slashes, case, Unicode): the facade picks the context the upstream\'s Express router matches, or refuses with 400 JSON', async () => {
    const seen = { refused: 0, routed: 0 };
    await fc.assert(
      fc.asyncProperty(methodArb, targetArb, async (method, target) => {
        const res = await rawExchange(facade.facade.server.port, Buffer.from(head(method, target, { 'Content-Length': '0' }), 'utf8'));
        const picked = res.headers['x-strangler-context'];
        const matched = res.headers['x-matched-context'];
        if (matched === undefined) {
          // Nothing reached the upstream: it must be a refusal, in the contract's shape.
          expect({ target, status: res.status }).toEqual({ target, status: 400 });
          if (method !== 'HEAD') expect(JSON.parse(res.body)).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
          seen.refused += 1;
          return;
        }
        expect({ method, target, context: picked }).toEqual({ method, target, context: matched });
        seen.routed += 1;
      }),
      {
        numRuns: 400,
        examples: [
          ['GET', '/api/users#x'],
          ['GET', '/api/users/1#/../../x'],
          ['GET', '/api/users\\1'],
          ['POST', '/api/users#x'],
          ['GET', '/api/users/1/orders'],
          ['GET', '/API/USERS/1'],
        ],
      },
    );
    // Both kinds were exercised: the property did not pass by refusing everything.
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.routed).toBeGreaterThan(0);
  });
});
