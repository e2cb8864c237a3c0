import { compareResponses, type Captured } from '../compare';
import { compileRules } from '../rules';
import { NoiseLearner } from '../noise';

let tick = 0;
/** What the monolith answers: a stable user with a per-call render time and request token. */
function monolithCall(extra: Record<string, unknown> = {}): Captured {
  tick++;
  const body = { id: 7, name: 'Ann', renderedAt: `2024-01-01T00:00:${String(tick % 60).padStart(2, '0')}Z`, orders: [{ id: 1, token: `t${tick}` }], ...extra };
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

const ROUTE = '* /api/users/:id';
const rules = compileRules({});

describe('NoiseLearner', () => {
  it('learns fields that differ between two calls of the same system, and the comparison then reports them as noise', () => {
    const learner = new NoiseLearner();
    const monolith = monolithCall();
    const service = monolithCall({ name: 'Anne' });
    const before = compareResponses({ route: ROUTE, method: 'GET', monolith, service, rules, noise: learner.noiseFor(ROUTE) });
    expect(before.diffs.map((d) => d.path)).toEqual(['$.name', '$.renderedAt', '$.orders[0].token']);

    expect(learner.observe(ROUTE, monolithCall(), monolithCall())).toEqual(['$.renderedAt', '$.orders[*].token']);
    expect([...learner.noiseFor(ROUTE)]).toEqual(['$.renderedAt', '$.orders[*].token']);

    const after = compareResponses({ route: ROUTE, method: 'GET', monolith, service, rules, noise: learner.noiseFor(ROUTE) });
    expect(after.diffs).toEqual([{ path: '$.name', monolith: 'Ann', service: 'Anne' }]);
    expect(after.noise).toEqual(['$.renderedAt', '$.orders[0].token']);
    expect(learner.snapshot()).toEqual({ [ROUTE]: { paths: ['$.orders[*].token', '$.renderedAt'], observations: 1, discarded: 0, overflow: 0 } });
    expect(learner.noiseFor('GET /other').size).toBe(0);
  });

  it('does not learn status changes, fields present in one call only, or observations that differ wholesale', () => {
    const learner = new NoiseLearner({ maxPathsPerObservation: 5 });
    expect(learner.observe(ROUTE, monolithCall(), { ...monolithCall(), status: 500 })).toEqual([]);
    expect(learner.observe(ROUTE, monolithCall({ id: 1 }), monolithCall({ id: 1, extra: 1 }))).toEqual(['$.renderedAt', '$.orders[*].token']);
    const wide = (n: number) => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, n])))) });
    expect(learner.observe('GET /list', wide(1), wide(2))).toEqual([]);
    expect(learner.noiseFor('GET /list').size).toBe(0);
    expect(learner.snapshot()['GET /list'].discarded).toBe(1);
  });

  it('waits for repeated evidence when asked to, and honours the rules it is given', () => {
    const learner = new NoiseLearner({ minHits: 2 });
    const context = { rules: compileRules({ ignore: ['$.renderedAt'] }), route: ROUTE, method: 'GET' };
    expect(learner.observe(ROUTE, monolithCall(), monolithCall(), context)).toEqual([]);
    expect(learner.observe(ROUTE, monolithCall(), monolithCall(), context)).toEqual(['$.orders[*].token']);
    expect([...learner.noiseFor(ROUTE)]).toEqual(['$.orders[*].token']);
  });

  it('keeps memory bounded: paths per route and routes, least recently observed forgotten first', () => {
    const learner = new NoiseLearner({ maxRoutes: 2, maxPathsPerRoute: 1 });
    learner.observe('a', monolithCall(), monolithCall());
    expect(learner.noiseFor('a').size).toBe(1);
    expect(learner.snapshot().a.overflow).toBe(1);
    learner.observe('b', monolithCall(), monolithCall());
    learner.observe('a', monolithCall(), monolithCall());
    learner.observe('c', monolithCall(), monolithCall());
    expect(Object.keys(learner.snapshot()).sort()).toEqual(['a', 'c']);
  });
});
