import { compareResponses, type Captured } from '../compare';
import { normalizePath } from '../paths';
import { redactAndTruncate } from '../redact';
import { compileRules, type CompiledRules } from '../rules';

function json(body: unknown, status = 200, headers: Captured['headers'] = {}): Captured {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

function text(body: string, status = 200, headers: Captured['headers'] = {}): Captured {
  return { status, headers: { 'content-type': 'text/plain', ...headers }, body: Buffer.from(body) };
}

const NONE = compileRules({});

function cmp(monolith: Captured, service: Captured, rules: CompiledRules = NONE, extra: { route?: string; method?: string; noise?: Set<string> } = {}) {
  return compareResponses({ route: extra.route ?? '* /api/users/:id', method: extra.method ?? 'GET', monolith, service, rules, noise: extra.noise });
}

describe('compareResponses', () => {
  it('matches equal responses, whatever the key order and number spelling', () => {
    const a = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":1,"price":10.0,"tags":["a"]}') };
    const b = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"tags":["a"],"price":10,"id":1}') };
    expect(cmp(a, b)).toEqual({ match: true, diffs: [], diffCount: 0, ignored: [], noise: [], markers: [] });
  });

  it('finds a planted difference deep in the body with both values', () => {
    const m = json({ id: 7, items: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }, { sku: 'C', qty: 3 }] });
    const s = json({ id: 7, items: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 2 }, { sku: 'X', qty: 3 }] });
    const r = cmp(m, s);
    expect(r.match).toBe(false);
    expect(r.diffs).toEqual([{ path: '$.items[2].sku', monolith: 'C', service: 'X' }]);
  });

  it('marks keys and elements that exist on one side only', () => {
    const r = cmp(json({ a: 1, gone: true, list: [1, 2] }), json({ a: 1, added: 'x', list: [1] }));
    expect(r.diffs).toEqual([
      { path: '$.gone', monolith: true, service: null, missing: 'service' },
      { path: '$.list[1]', monolith: 2, service: null, missing: 'service' },
      { path: '$.added', monolith: null, service: 'x', missing: 'monolith' },
    ]);
  });

  it('reports a type change at the node that changed, and odd keys in bracket form', () => {
    const r = cmp(json({ 'a.b': { x: 1 }, n: 1 }), json({ 'a.b': [1], n: '1' }));
    expect(r.diffs).toEqual([
      { path: '$["a.b"]', monolith: { x: 1 }, service: [1] },
      { path: '$.n', monolith: 1, service: '1' },
    ]);
  });

  it('compares status codes', () => {
    const r = cmp(json({ error: { code: 'not_found' } }, 404), json({ error: { code: 'not_found' } }, 200));
    expect(r.match).toBe(false);
    expect(r.diffs).toEqual([{ path: '$status', monolith: 404, service: 200 }]);
  });

  it('compares only the configured headers, by case-insensitive name', () => {
    const rules = compileRules({ headers: ['Content-Type', 'ETag', 'x-only-monolith'] });
    const m = { ...json({ ok: true }), headers: { 'Content-Type': 'application/json', etag: 'W/"1"', 'x-only-monolith': 'y', date: 'Mon' } };
    const s = { ...json({ ok: true }), headers: { 'content-type': 'application/json; charset=utf-8', ETag: ['W/"1"'], date: 'Tue' } };
    const r = cmp(m, s, rules);
    expect(r.diffs).toEqual([
      { path: '$headers.content-type', monolith: 'application/json', service: 'application/json; charset=utf-8' },
      { path: '$headers.x-only-monolith', monolith: 'y', service: null, missing: 'service' },
    ]);
  });

  describe('ignore rules', () => {
    const m = json({ id: 1, createdAt: 'T1', items: [{ sku: 'A', updatedAt: 'T1' }, { sku: 'B', updatedAt: 'T2' }], meta: { a: 1, b: 2 } });
    const s = json({ id: 2, createdAt: 'T9', items: [{ sku: 'A', updatedAt: 'T8' }, { sku: 'B', updatedAt: 'T7' }], meta: { a: 3, b: 4 } });

    it('ignores a global path, every element through [*], and a whole subtree', () => {
      const rules = compileRules({ ignore: ['$.createdAt', '$.items[*].updatedAt', '$.meta'] });
      const r = cmp(m, s, rules);
      expect(r.diffs).toEqual([{ path: '$.id', monolith: 1, service: 2 }]);
      expect(r.ignored).toEqual(['$.createdAt', '$.items[0].updatedAt', '$.items[1].updatedAt', '$.meta']);
    });

    it('applies a route-qualified rule to that plan route and method only', () => {
      const rules = compileRules({ ignore: ['POST /api/users $.id', '$.createdAt', '$.items[*].updatedAt', '$.meta'] });
      const created = cmp(m, s, rules, { route: '* /api/users', method: 'POST' });
      expect(created.match).toBe(true);
      expect(created.ignored).toContain('$.id');
      expect(cmp(m, s, rules, { route: '* /api/users', method: 'GET' }).diffs.map((d) => d.path)).toEqual(['$.id']);
      expect(cmp(m, s, rules, { route: '* /api/users/:id', method: 'POST' }).diffs.map((d) => d.path)).toEqual(['$.id']);
      // `*` for the method, and parameter names do not matter.
      const any = compileRules({ ignore: ['* /api/users/:userId $.id'] });
      expect(cmp(json({ id: 1 }), json({ id: 2 }), any, { route: '* /api/users/:id', method: 'DELETE' }).match).toBe(true);
    });

    it('supports any-key and any-depth wildcards', () => {
      const r1 = cmp(json({ a: { v: 1, w: 1 }, b: { v: 2 } }), json({ a: { v: 9, w: 1 }, b: { v: 8 } }), compileRules({ ignore: ['$.*.v'] }));
      expect(r1.match).toBe(true);
      expect(r1.ignored).toEqual(['$.a.v', '$.b.v']);
      const r2 = cmp(json({ x: { y: [{ stamp: 1 }] }, stamp: 1 }), json({ x: { y: [{ stamp: 2 }] }, stamp: 3 }), compileRules({ ignore: ['$..stamp'] }));
      expect(r2.match).toBe(true);
      expect(r2.ignored).toEqual(['$.x.y[0].stamp', '$.stamp']);
    });

    it('can ignore status, a header or the whole body', () => {
      const rules = compileRules({ ignore: ['$status', '$headers.ETag', '$body'], headers: ['etag'] });
      const r = cmp(text('a', 200, { etag: '1' }), text('b', 201, { etag: '2' }), rules);
      expect(r.match).toBe(true);
      expect(r.ignored).toEqual(['$status', '$headers.etag', '$body']);
    });

    it('rejects malformed entries at compile time, naming the entry', () => {
      expect(() => compileRules({ ignore: ['$.a', 'items.id'] }, { label: 'contexts.users.shadow' })).toThrow(
        /contexts\.users\.shadow\.ignore\[1\]: bad JSON path "items\.id": must start with "\$"/,
      );
      expect(() => compileRules({ ignore: ['FETCH /a $.id'] })).toThrow(/shadow\.ignore\[0\]: unknown method/);
      expect(() => compileRules({ ignore: ['$.a[x]'] })).toThrow(/expected \[n\], \[\*\] or \["key"\]/);
      expect(() => compileRules({ ignore: ['POST /api/userz $.id'] }, { routes: ['* /api/users'] })).toThrow(/not one of the context's routes/);
    });
  });

  describe('unordered arrays', () => {
    const m = json({ tags: ['a', 'b', 'c'], items: [{ sku: 'A', at: 1 }, { sku: 'B', at: 2 }] });
    const s = json({ tags: ['c', 'a', 'b'], items: [{ at: 9, sku: 'B' }, { sku: 'A', at: 8 }] });

    it('compares arrays in order by default', () => {
      expect(cmp(m, s).diffs.map((d) => d.path)).toEqual(['$.tags[0]', '$.tags[1]', '$.tags[2]', '$.items[0].sku', '$.items[0].at', '$.items[1].sku', '$.items[1].at']);
    });

    it('compares configured arrays as multisets, honouring ignore rules inside elements', () => {
      const rules = compileRules({ unorderedArrays: ['$.tags', '$.items'], ignore: ['$.items[*].at'] });
      const r = cmp(m, s, rules);
      expect(r).toMatchObject({ match: true, diffs: [] });
    });

    it('reports what is left unpaired, and duplicates count', () => {
      const rules = compileRules({ unorderedArrays: ['$.tags', '$.items'] });
      const r = cmp(json({ tags: ['a', 'a', 'b'], items: [{ sku: 'A', n: 1 }, { sku: 'B', n: 1 }] }), json({ tags: ['b', 'a'], items: [{ sku: 'B', n: 1 }, { sku: 'A', n: 2 }] }), rules);
      expect(r.diffs).toEqual([
        { path: '$.tags[1]', monolith: 'a', service: null, missing: 'service' },
        { path: '$.items[0].n', monolith: 1, service: 2 },
      ]);
    });
  });

  describe('bodies that are not JSON', () => {
    it('compares bytes and reports $body with both texts', () => {
      expect(cmp(text('<p>hello</p>'), text('<p>hello</p>')).match).toBe(true);
      const r = cmp(text('<p>hello</p>'), text('<p>bye</p>'));
      expect(r.diffs).toEqual([{ path: '$body', monolith: '<p>hello</p>', service: '<p>bye</p>' }]);
    });

    it('treats a parseable body as JSON even without a JSON content type, and JSON vs text as a body diff', () => {
      expect(cmp(text('{"a":1, "b":2}'), text('{"b":2,"a":1}')).match).toBe(true);
      const r = cmp(json({ a: 1 }), text('Internal Server Error', 200));
      expect(r.diffs).toEqual([{ path: '$body', monolith: '{"a":1}', service: 'Internal Server Error' }]);
    });

    it('compares empty bodies', () => {
      expect(cmp(text('', 204), text('', 204)).match).toBe(true);
    });
  });

  describe('truncated bodies', () => {
    const long = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i })) });
    const cut = (s: string, n: number): Captured => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(s.slice(0, n)), truncated: true });

    it('compares what both sides have and marks the cut without failing', () => {
      const r = cmp(cut(long, 100), cut(long, 100));
      expect(r.match).toBe(true);
      expect(r.markers).toEqual([{ path: '$body.truncated', monolith: true, service: true }]);
      // Only the monolith was cut, and the service's full body starts the same way: inconclusive, not a diff.
      expect(cmp(cut(long, 100), { ...json(JSON.parse(long)) }).match).toBe(true);
    });

    it('still finds a difference inside what was captured, or a full body shorter than the cut one', () => {
      const other = long.replace('"i":1}', '"i":7}');
      const r = cmp(cut(long, 100), cut(other, 100));
      expect(r.match).toBe(false);
      expect(r.diffs[0].path).toBe('$body');
      expect(r.markers[0].path).toBe('$body.truncated');
      expect(cmp(cut(long, 100), { ...text(long.slice(0, 50)) }).match).toBe(false);
    });
  });

  it('caps stored diffs and says how many were left out', () => {
    const m = json(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i])));
    const s = json(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, -i - 1])));
    const r = cmp(m, s);
    expect(r.diffs).toHaveLength(50);
    expect(r.diffCount).toBe(80);
    expect(r.markers).toEqual([{ path: '$diffs.omitted', monolith: null, service: null, omitted: 30 }]);
  });

  it('reports learned noise as noise, not as a diff, but still counts a field missing on one side', () => {
    const noise = new Set(['$.requestToken', '$.items[*].renderedAt']);
    const m = json({ requestToken: 'abc', items: [{ renderedAt: 1 }, { renderedAt: 2 }], name: 'Ann' });
    const s = json({ requestToken: 'xyz', items: [{ renderedAt: 3 }, { renderedAt: 2 }], name: 'Ann' });
    const r = cmp(m, s, NONE, { noise });
    expect(r).toMatchObject({ match: true, diffs: [], noise: ['$.requestToken', '$.items[0].renderedAt'] });
    const gone = cmp(m, json({ items: [{ renderedAt: 1 }, { renderedAt: 2 }], name: 'Ann' }), NONE, { noise });
    expect(gone.diffs).toEqual([{ path: '$.requestToken', monolith: 'abc', service: null, missing: 'service' }]);
  });

  it('survives a hostile, deeply nested body', () => {
    const deep = (leaf: number) => Buffer.from('['.repeat(20_000) + leaf + ']'.repeat(20_000));
    const r = cmp({ status: 200, headers: {}, body: deep(1) }, { status: 200, headers: {}, body: deep(2) });
    expect(r.match).toBe(false);
    expect(r.diffs).toHaveLength(1);
  });
});

describe('normalizePath', () => {
  it.each([
    ['$.items[3].createdAt', '$.items[*].createdAt'],
    ['$.a[0][12].b', '$.a[*][*].b'],
    ['$["x[1]"].y', '$["x[1]"].y'],
    ['$..[2].x', '$..[*].x'],
    ['$status', '$status'],
    ['$headers.ETag', '$headers.etag'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });
});

describe('redactAndTruncate', () => {
  it('redacts named fields at any depth and any case, and entries whose path goes through one', () => {
    const out = redactAndTruncate(
      [
        { path: '$.email', monolith: 'a@x.io', service: 'b@x.io' },
        { path: '$.items[0].Email', monolith: 'a@x.io', service: null, missing: 'service' },
        { path: '$.user', monolith: { name: 'A', contact: { EMAIL: 'a@x.io' } }, service: { name: 'B', contact: { EMAIL: 'a@x.io' } } },
        { path: '$body', monolith: '{"id":1,"email":"a@x.io","n":2}', service: '{"email": "b@x.io"' },
        { path: '$headers.set-cookie', monolith: 'sid=1', service: 'sid=2' },
      ],
      ['email'],
    );
    expect(out).toEqual([
      { path: '$.email', monolith: '[redacted]', service: '[redacted]' },
      { path: '$.items[0].Email', monolith: '[redacted]', service: null, missing: 'service' },
      { path: '$.user', monolith: { name: 'A', contact: { EMAIL: '[redacted]' } }, service: { name: 'B', contact: { EMAIL: '[redacted]' } } },
      { path: '$body', monolith: '{"id":1,"email":"[redacted]","n":2}', service: '{"email": "[redacted]"' },
      { path: '$headers.set-cookie', monolith: '[redacted]', service: '[redacted]' },
    ]);
    expect(JSON.stringify(out)).not.toContain('@x.io');
  });

  it('cuts long strings and objects with a marker', () => {
    const [d] = redactAndTruncate([{ path: '$.blob', monolith: 'x'.repeat(500), service: { list: Array.from({ length: 100 }, (_, i) => i) } }], [], 20);
    expect(d.monolith).toBe(`${'x'.repeat(20)}…[truncated, 500 chars]`);
    expect(d.service).toMatch(/^\{"list":\[0,1,2,3,4,5…\[truncated, \d+ chars\]$/);
  });
});

describe('cost', () => {
  it('compares a 2 KB JSON body pair in well under a millisecond', () => {
    const doc = (stamp: string) => ({
      id: 42,
      name: 'Ann Example',
      createdAt: stamp,
      items: Array.from({ length: 17 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i, unitPriceCents: 1000 + i, note: 'some text here', createdAt: stamp })),
    });
    const m = json(doc('2024-01-01T00:00:00.000Z'));
    const s = json(doc('2024-01-01T00:00:01.000Z'));
    expect(m.body.length).toBeGreaterThan(1900);
    const rules = compileRules({ ignore: ['$.createdAt', '$.items[*].createdAt', 'POST /api/users $.id'], headers: ['content-type'] });
    for (let i = 0; i < 2000; i++) cmp(m, s, rules);
    const n = 5000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) cmp(m, s, rules);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    if (process.env.SHADOW_BENCH) console.log(`compare ${m.body.length} B JSON: ${us.toFixed(1)} µs`);
    expect(cmp(m, s, rules).match).toBe(true);
    expect(us).toBeLessThan(1000);
  });
});
