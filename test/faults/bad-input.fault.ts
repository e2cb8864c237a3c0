import fc from 'fast-check';
import request from 'supertest';
import { startShop, type Shop } from '../../extracted/__tests__/shop';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../facade/testing';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { describeWithKafka } from '../harness/kafka';
import { report } from './support/report';
import { head, rawExchange, type RawResponse } from './support/raw-http';

interface Target {
  name: string;
  port: number;
  health: string;
  /** Routes that take a JSON body on this process. */
  bodyRoutes: [method: string, path: string][];
}

/** What an answer to bad input may be. */
type Rule =
  /** A 4xx with the contract's JSON error body. */
  | 'json4xx'
  /** As json4xx, or Node's own 400/431 written by its HTTP parser before any of our code runs. */
  | 'json4xxOrParser'
  /** The request is odd but legitimate: any answer below 500 (a 4xx still needs the JSON error body). */
  | 'below500';

interface Verdict {
  target: string;
  probe: string;
  status: number | null;
  problem: string;
}

function judge(res: RawResponse | { status: number; body: string }, rule: Rule): string | null {
  if (res.status === null) return 'no answer (connection closed)';
  if (res.status >= 500) return `${res.status} ${res.body.slice(0, 160)}`;
  if (res.status < 400) return rule === 'below500' ? null : `accepted with ${res.status}: ${res.body.slice(0, 120)}`;
  try {
    const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string' && typeof body.error.message === 'string') return null;
  } catch {
    // judged below
  }
  if (rule !== 'json4xx' && (res.status === 400 || res.status === 431) && !res.body.trim()) return null;
  return `${res.status} without a JSON error body: ${JSON.stringify(res.body.slice(0, 120))}`;
}

const MALFORMED = ['{', '{"email":', 'nul', '[1,2', '{"email":"a@example.com"}}', "{'email':'a@example.com'}", '{"email":"a@example.com",}', '\u0000', '{"a":01}', '{"__proto__":{"admin":true}}x'];

/**
 * Bodies that parse but must be refused. A PATCH only gets the ones that name its fields: a PATCH body with none of
 * them is a no-op the contract answers with 200 (unknown keys are ignored everywhere).
 */
const WRONG_TYPES: unknown[] = [
  null,
  42,
  'a string',
  true,
  [],
  [{ email: 'a@example.com', name: 'A' }],
  { email: 1, name: [] },
  { email: null, name: null },
  { email: { $gt: '' }, name: 'A' },
  { email: 'a@example.com', name: 'x'.repeat(10_000) },
  { email: `${'x'.repeat(400)}@example.com`, name: 'A' },
  { email: 'nul\u0000@example.com', name: 'A' },
  { email: 'ctl@example.com', name: 'A\u0000B' },
  { email: 'a@example.com', name: '\ud800' },
  { userId: '1; DROP TABLE users', items: 'x' },
  { userId: 1, items: [{ sku: 1, quantity: -1, unitPriceCents: 1e308 }] },
  { userId: 2 ** 53, items: Array.from({ length: 10_000 }, () => ({ sku: 'x', quantity: 1, unitPriceCents: 1 })) },
  { orderId: 'x', amountCents: -1 },
  { amountCents: Number.MAX_SAFE_INTEGER, orderId: 2 ** 31 },
];

const TRAVERSAL = [
  '/api/users/../../etc/passwd',
  '/api/users/..%2f..%2f..%2fetc%2fpasswd',
  '/api/users/%2e%2e/%2e%2e/etc/passwd',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/..%252f..%252fetc%252fpasswd',
  '/api/users/..\\..\\etc\\passwd',
  '/api/users/%00',
  '/api/users/1%00.json',
  '/_strangler/assets/..%2f..%2f..%2fpackage.json',
  '/_strangler/assets/%2e%2e%2fpage.ts',
  '/_strangler/../package.json',
];

const METHODS = ['FOO', 'PROPFIND', 'TRACE', 'PURGE', 'LINK', 'MKCOL', 'SEARCH', 'PUT', 'DELETE'];

const TEN_MB = Buffer.alloc(10 * 1024 * 1024, 0x61);

describeWithKafka('fault 7 and 8: bad input against the facade, the monolith and every service; admin routes without the token', () => {
  let monolith: TestMonolith;
  let shop: Shop;
  let facade: TestFacade;
  let targets: Target[];
  const verdicts: Verdict[] = [];
  let probes = 0;
  /** Bodies a target took (2xx): the only rows bad input may have left behind. */
  const accepted: Record<string, number> = {};

  beforeAll(async () => {
    [monolith, shop] = await Promise.all([startTestMonolith(), startShop()]);
    // No Unleash: every context on the monolith, which is what the facade's bad-input path is.
    facade = await startTestFacade({
      plan: testPlan({
        monolith: monolith.server.url,
        users: shop.users.server.url,
        orders: shop.orders.server.url,
        payments: shop.payments.server.url,
        notifications: shop.notifications.server.url,
      }),
    });
    const shopRoutes: Target['bodyRoutes'] = [
      ['POST', '/api/users'],
      ['PATCH', '/api/users/1'],
      ['POST', '/api/orders'],
      ['POST', '/api/orders/1/cancel'],
    ];
    targets = [
      { name: 'facade', port: facade.facade.server.port, health: '/_strangler/health', bodyRoutes: shopRoutes },
      { name: 'monolith', port: monolith.server.port, health: '/health', bodyRoutes: shopRoutes },
      { name: 'users', port: shop.users.server.port, health: '/health', bodyRoutes: [shopRoutes[0], shopRoutes[1]] },
      { name: 'orders', port: shop.orders.server.port, health: '/health', bodyRoutes: [shopRoutes[2], shopRoutes[3]] },
      { name: 'payments', port: shop.payments.server.port, health: '/health', bodyRoutes: [['POST', '/internal/payments'], ['POST', '/internal/payments/1/refund']] },
      { name: 'notifications', port: shop.notifications.server.port, health: '/health', bodyRoutes: [['POST', '/api/notifications']] },
    ];
  });
  afterAll(async () => {
    await facade?.destroy();
    await Promise.allSettled([monolith?.stop(), shop?.stop()]);
  });

  const countAccepted = (target: string, method: string, path: string, status: number | null) => {
    if (method === 'POST' && (path === '/api/users' || path === '/api/orders') && status !== null && status >= 200 && status < 300) {
      accepted[`${target} ${path}`] = (accepted[`${target} ${path}`] ?? 0) + 1;
    }
  };

  async function probe(t: Target, name: string, rule: Rule, exchange: () => Promise<RawResponse>): Promise<void> {
    probes += 1;
    const res = await exchange();
    const [method, path] = name.split(' ');
    countAccepted(t.name, method, path, res.status);
    const problem = judge(res, rule);
    if (problem) verdicts.push({ target: t.name, probe: name, status: res.status, problem });
  }

  const json = (method: string, path: string, body: string | Buffer, extra: Record<string, string> = {}) =>
    head(method, path, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...extra }) + '';

  it('7: malformed JSON, wrong types, 10 MB bodies, invalid UTF-8, huge headers, traversal, unknown methods: only 4xx JSON, never 5xx', async () => {
    const started = Date.now();
    for (const t of targets) {
      for (const [method, path] of t.bodyRoutes) {
        for (const body of MALFORMED) await probe(t, `${method} ${path} malformed ${JSON.stringify(body)}`, 'json4xx', () => rawExchange(t.port, json(method, path, body) + body));
        for (const value of WRONG_TYPES) {
          if (method === 'PATCH' && !(typeof value === 'object' && value !== null && ('email' in value || 'name' in value))) continue;
          const body = JSON.stringify(value);
          await probe(t, `${method} ${path} ${body.slice(0, 60)}`, 'json4xx', () => rawExchange(t.port, json(method, path, body) + body));
        }
        // Not UTF-8 at all, though the request says it is.
        const latin = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('@example.com","name":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]);
        await probe(t, `${method} ${path} invalid UTF-8 body`, 'json4xx', () =>
          rawExchange(t.port, Buffer.concat([Buffer.from(json(method, path, latin, { 'Content-Type': 'application/json; charset=utf-8' })), latin])),
        );
        await probe(t, `${method} ${path} unknown charset`, 'json4xx', () => rawExchange(t.port, json(method, path, '{}', { 'Content-Type': 'application/json; charset=klingon' }) + '{}'));
        await probe(t, `${method} ${path} gzip claimed, not gzip`, 'json4xx', () => rawExchange(t.port, json(method, path, '{}', { 'Content-Encoding': 'gzip' }) + '{}'));
      }
      const [method, path] = t.bodyRoutes[0];
      await probe(t, `${method} ${path} 10 MB declared`, 'json4xx', () =>
        rawExchange(t.port, head(method, path, { 'Content-Type': 'application/json', 'Content-Length': String(TEN_MB.length) }), TEN_MB),
      );
      await probe(t, `${method} ${path} 10 MB chunked`, 'json4xx', () => {
        const chunked = Buffer.concat([Buffer.from(`${TEN_MB.length.toString(16)}\r\n`), TEN_MB, Buffer.from('\r\n0\r\n\r\n')]);
        return rawExchange(t.port, head(method, path, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), chunked);
      });
      if (t.name === 'facade') {
        // A body shorter than its Content-Length: the client's fault, so a 4xx once the facade stops waiting, never
        // a 503 that blames (and counts against) the upstream.
        await probe(t, `${method} ${path} body shorter than its Content-Length`, 'json4xx', () =>
          rawExchange(t.port, head(method, path, { 'Content-Type': 'application/json', 'Content-Length': '100' }) + '{}', null, 30_000),
        );
      }
      await probe(t, 'one 64 KB header', 'json4xxOrParser', () => rawExchange(t.port, head('GET', '/api/users/1', { 'X-Big': 'a'.repeat(64 * 1024) })));
      await probe(t, '2000 headers', 'below500', () =>
        rawExchange(t.port, head('GET', '/api/users/1', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, 'v'])))),
      );
      // Header bytes are opaque to HTTP: any answer but a 5xx (or a crash) is right.
      await probe(t, 'invalid UTF-8 in a header value', 'below500', () =>
        rawExchange(t.port, Buffer.concat([Buffer.from('GET /api/users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-User-Id: '), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\r\n\r\n')])),
      );
      await probe(t, 'invalid UTF-8 in the path (percent-encoded)', 'json4xx', () => rawExchange(t.port, head('GET', '/api/users/%ff%fe%80')));
      await probe(t, 'raw non-ASCII bytes in the path', 'json4xxOrParser', () =>
        rawExchange(t.port, Buffer.concat([Buffer.from('GET /api/users/'), Buffer.from([0xff, 0xc3]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])),
      );
      for (const p of TRAVERSAL) {
        probes += 1;
        const res = await rawExchange(t.port, head('GET', p));
        const problem = judge(res, 'json4xx') ?? (/root:|"name":\s*"strangler|DASHBOARD_PATH/.test(res.body) ? `leaked a file: ${res.body.slice(0, 80)}` : null);
        if (problem) verdicts.push({ target: t.name, probe: `GET ${p}`, status: res.status, problem });
      }
      for (const m of METHODS) await probe(t, `${m} /api/users`, 'json4xxOrParser', () => rawExchange(t.port, head(m, '/api/users', { 'Content-Length': '0' })));
      const health = await request(`http://127.0.0.1:${t.port}`).get(t.health);
      if (health.status !== 200) verdicts.push({ target: t.name, probe: 'health after bad input', status: health.status, problem: JSON.stringify(health.body) });
    }
    report('7-bad-input', { probes, problems: verdicts.length, totalMs: Date.now() - started });
    expect(verdicts.map((v) => `${v.target}: ${v.probe} → ${v.problem}`)).toEqual([]);
  });

  it('7: property-based JSON bodies for POST /api/users and POST /api/orders: never a 5xx, every 4xx a JSON error', async () => {
    const started = Date.now();
    const anyJson = fc.jsonValue({ maxDepth: 3 });
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.fullUnicodeString({ maxLength: 40 }), fc.emailAddress(), fc.constantFrom('', ' ', '\u0000', 'a@b.c', '\ud800'));
    const userBody = fc.oneof(anyJson, fc.record({ email: fc.oneof(text, anyJson), name: fc.oneof(text, anyJson) }, { requiredKeys: [] }));
    const item = fc.record({ sku: fc.oneof(text, anyJson), quantity: fc.oneof(fc.integer(), fc.double(), anyJson), unitPriceCents: fc.oneof(fc.integer(), fc.double(), anyJson) }, { requiredKeys: [] });
    const orderBody = fc.oneof(anyJson, fc.record({ userId: fc.oneof(fc.integer(), fc.constant(1), anyJson), items: fc.oneof(fc.array(item, { maxLength: 60 }), anyJson) }, { requiredKeys: [] }));
    const runs: Record<string, number> = {};
    for (const [path, arb, names] of [
      ['/api/users', userBody, ['facade', 'monolith', 'users']],
      ['/api/orders', orderBody, ['facade', 'monolith', 'orders']],
    ] as const) {
      for (const t of targets.filter((x) => (names as readonly string[]).includes(x.name))) {
        await fc.assert(
          fc.asyncProperty(arb, async (value) => {
            const res = await request(`http://127.0.0.1:${t.port}`).post(path).set('content-type', 'application/json').send(JSON.stringify(value));
            runs[`${t.name} POST ${path}`] = (runs[`${t.name} POST ${path}`] ?? 0) + 1;
            countAccepted(t.name, 'POST', path, res.status);
            const problem = judge({ status: res.status, body: res.text }, 'json4xx');
            if (problem && !problem.startsWith('accepted')) throw new Error(`${t.name} POST ${path} ${JSON.stringify(value).slice(0, 200)} → ${problem}`);
          }),
          { numRuns: 200, endOnFailure: true },
        );
      }
    }
    report('7-bad-input-property', { runs, accepted, totalMs: Date.now() - started });
  });

  it('7: spoofed x-strangler-* headers are stripped by the facade before anything sees them', async () => {
    const email = `spoof-${Date.now()}@example.com`;
    const res = await request(facade.url)
      .post('/api/users')
      .set({ 'x-strangler-shadow': '1', 'X-Strangler-Upstream': 'users', 'x-strangler-fallback': '1', 'x-strangler-context': 'orders' })
      .send({ email, name: 'Spoof' });
    // A dry-run header that got through would make the monolith answer 201 and commit nothing.
    expect(res.status).toBe(201);
    expect(res.headers['x-strangler-upstream']).toBe('monolith');
    expect(res.headers['x-strangler-fallback']).toBeUndefined();
    expect(res.headers['x-strangler-context']).toBe('users');
    const [rows] = await monolith.sequelize.query('SELECT count(*)::int AS n FROM users WHERE email = :email', { replacements: { email } });
    expect((rows[0] as { n: number }).n).toBe(1);
  });

  it('7: bad input left no rows behind beyond what was accepted, and every process still answers', async () => {
    const count = async (sequelize: TestMonolith['sequelize'], table: string) => {
      const [rows] = await sequelize.query(`SELECT count(*)::int AS n FROM ${table}`);
      return (rows[0] as { n: number }).n;
    };
    // +1: the spoofed-header test's user.
    expect(await count(monolith.sequelize, 'users')).toBe((accepted['facade /api/users'] ?? 0) + (accepted['monolith /api/users'] ?? 0) + 1);
    expect(await count(shop.users.sequelize, 'users')).toBe(accepted['users /api/users'] ?? 0);
    expect(await count(monolith.sequelize, 'orders')).toBe((accepted['facade /api/orders'] ?? 0) + (accepted['monolith /api/orders'] ?? 0));
    expect(await count(shop.orders.sequelize, 'orders')).toBe(accepted['orders /api/orders'] ?? 0);
    for (const t of targets) expect([t.name, (await request(`http://127.0.0.1:${t.port}`).get(t.health)).status]).toEqual([t.name, 200]);
  });

  it('8: admin and dashboard routes refuse a missing or wrong token with 401 and show nothing', async () => {
    const routes: [string, string][] = [
      ['GET', '/_strangler/status'],
      ['GET', '/_strangler/diffs'],
      ['GET', '/_strangler/diffs?context=users'],
      ['DELETE', '/_strangler/diffs?context=users'],
      ['GET', '/_strangler/traffic'],
      ['POST', '/_strangler/contexts/users/advance'],
      ['POST', '/_strangler/contexts/users/rollback'],
      ['GET', '/_strangler/nope'],
    ];
    const future = Math.floor(Date.now() / 1000) + 3600;
    const credentials: [string, Record<string, string>][] = [
      ['none', {}],
      ['wrong bearer', { authorization: 'Bearer wrong-token-0123456789' }],
      ['token plus a byte', { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
      ['token prefix', { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` }],
      ['lower-case scheme', { authorization: `bearer ${TEST_ADMIN_TOKEN}x` }],
      ['basic', { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}x`).toString('base64')}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['forged session cookie', { cookie: `strangler_session=${future}.${'A'.repeat(43)}` }],
      ['token as cookie', { cookie: `strangler_session=${TEST_ADMIN_TOKEN}` }],
      ['csrf header alone', { 'x-strangler-csrf': '1' }],
      ['token in a spoofed header', { 'x-strangler-admin-token': TEST_ADMIN_TOKEN, 'x-admin-token': TEST_ADMIN_TOKEN }],
    ];
    const problems: string[] = [];
    for (const [method, path] of routes) {
      for (const [what, headers] of credentials) {
        const res = await request(facade.url)[method.toLowerCase() as 'get'](path).set(headers).send(method === 'POST' ? { force: true } : undefined);
        const leaks = /canary|shadow|monolith|"contexts"/.test(res.text);
        if (res.status !== 401 || res.body?.error?.code !== 'unauthorized' || leaks) problems.push(`${method} ${path} with ${what}: ${res.status} ${res.text.slice(0, 100)}`);
      }
    }
    // The same routes do answer the right token: the refusals above are about the token, not a broken route.
    expect((await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`)).status).toBe(200);
    for (const [what, headers] of credentials) {
      const page = await request(facade.url).get('/_strangler/').set(headers);
      if (page.status !== 200 || !page.text.includes('name="token"') || page.text.includes('Log out')) problems.push(`dashboard page with ${what}: ${page.status}`);
    }
    const login = await request(facade.url).post('/_strangler/login').type('form').send({ token: 'wrong-token-0123456789' });
    if (login.status !== 401 || login.headers['set-cookie']) problems.push(`login with a wrong token: ${login.status} ${String(login.headers['set-cookie'])}`);
    report('8-admin-auth', { requests: routes.length * credentials.length + credentials.length + 1, problems });
    expect(problems).toEqual([]);
  });
});
