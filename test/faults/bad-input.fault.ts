import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { startShop, type Shop } from '../../extracted/__tests__/shop';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../facade/testing';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { describeWithKafka, testKafkaBrokers } from '../harness/kafka';
import { tempStackHome } from '../harness/cli';
import { createTestDatabase } from '../harness/database';
import { withDatabase } from '../../lib/db/urls';
import { listen } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { createWorkerApp } from '../../migrations/cdc/worker/app';
import { PipelineRegistry } from '../../migrations/cdc/worker/registry';
import { CdcWorker } from '../../migrations/cdc/worker/worker';
import { openLog, prepareHome, writeStackState } from '../../scripts/stack/home';
import { loadOrCreateSecrets } from '../../scripts/stack/secrets';
import { report } from './support/report';
import { head, rawExchange, type RawResponse } from './support/raw-http';
import { signedCall, signedDryRun } from '../harness/internal';

interface Target {
  name: string;
  port: number;
  health: string;
  /** Routes that take a JSON body on this process. */
  bodyRoutes: [method: string, path: string][];
  /** Sent with every body probe: payments' internal routes take signed calls only, as orders makes them. */
  headers?: Record<string, string>;
}

/** What an answer to bad input may be. */
type Rule =
  /** A 4xx with the contract's JSON error body (Node's parser errors too: lib/http/server answers them in JSON). */
  | 'json4xx'
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
  return `${res.status} without a JSON error body: ${JSON.stringify(res.body.slice(0, 120))}`;
}

/** A JSON 4xx with another code than `code` becomes a 5xx-like verdict: the contract names the code. */
function codeIs(res: RawResponse, code: string): RawResponse {
  try {
    if ((JSON.parse(res.body) as { error?: { code?: unknown } }).error?.code === code) return res;
  } catch {
    // judged as is
  }
  return res.status !== null && res.status >= 400 && res.status < 500 ? { ...res, status: 500, body: `expected ${code}: ${res.body}` } : res;
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
      { name: 'payments', port: shop.payments.server.port, health: '/health', bodyRoutes: [['POST', '/internal/payments'], ['POST', '/internal/payments/1/refund']], headers: signedCall() },
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

  const json = (t: Target, method: string, path: string, body: string | Buffer, extra: Record<string, string> = {}) =>
    head(method, path, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), ...t.headers, ...extra }) + '';

  it('7: malformed JSON, wrong types, 10 MB bodies, invalid UTF-8, huge headers, traversal, unknown methods: only 4xx JSON, never 5xx', async () => {
    const started = Date.now();
    for (const t of targets) {
      for (const [method, path] of t.bodyRoutes) {
        for (const body of MALFORMED) await probe(t, `${method} ${path} malformed ${JSON.stringify(body)}`, 'json4xx', () => rawExchange(t.port, json(t, method, path, body) + body));
        for (const value of WRONG_TYPES) {
          if (method === 'PATCH' && !(typeof value === 'object' && value !== null && ('email' in value || 'name' in value))) continue;
          const body = JSON.stringify(value);
          await probe(t, `${method} ${path} ${body.slice(0, 60)}`, 'json4xx', () => rawExchange(t.port, json(t, method, path, body) + body));
        }
        // Not UTF-8 at all, though the request says it is.
        const latin = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('@example.com","name":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]);
        await probe(t, `${method} ${path} invalid UTF-8 body`, 'json4xx', () =>
          rawExchange(t.port, Buffer.concat([Buffer.from(json(t, method, path, latin, { 'Content-Type': 'application/json; charset=utf-8' })), latin])),
        );
        await probe(t, `${method} ${path} unknown charset`, 'json4xx', () => rawExchange(t.port, json(t, method, path, '{}', { 'Content-Type': 'application/json; charset=klingon' }) + '{}'));
        await probe(t, `${method} ${path} gzip claimed, not gzip`, 'json4xx', async () => {
          const res = await rawExchange(t.port, json(t, method, path, '{}', { 'Content-Encoding': 'gzip' }) + '{}');
          return codeIs(res, 'invalid_content_encoding');
        });
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
      await probe(t, 'one 64 KB header', 'json4xx', () => rawExchange(t.port, head('GET', '/api/users/1', { 'X-Big': 'a'.repeat(64 * 1024) })));
      await probe(t, '2000 headers', 'below500', () =>
        rawExchange(t.port, head('GET', '/api/users/1', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, 'v'])))),
      );
      // Header bytes are opaque to HTTP: any answer but a 5xx (or a crash) is right.
      await probe(t, 'invalid UTF-8 in a header value', 'below500', () =>
        rawExchange(t.port, Buffer.concat([Buffer.from('GET /api/users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-User-Id: '), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('\r\n\r\n')])),
      );
      await probe(t, 'invalid UTF-8 in the path (percent-encoded)', 'json4xx', () => rawExchange(t.port, head('GET', '/api/users/%ff%fe%80')));
      await probe(t, 'raw non-ASCII bytes in the path', 'json4xx', () =>
        rawExchange(t.port, Buffer.concat([Buffer.from('GET /api/users/'), Buffer.from([0xff, 0xc3]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])),
      );
      for (const p of TRAVERSAL) {
        probes += 1;
        const res = await rawExchange(t.port, head('GET', p));
        const problem = judge(res, 'json4xx') ?? (/root:|"name":\s*"strangler|DASHBOARD_PATH/.test(res.body) ? `leaked a file: ${res.body.slice(0, 80)}` : null);
        if (problem) verdicts.push({ target: t.name, probe: `GET ${p}`, status: res.status, problem });
      }
      for (const m of METHODS) await probe(t, `${m} /api/users`, 'json4xx', () => rawExchange(t.port, head(m, '/api/users', { 'Content-Length': '0' })));
      for (const p of ['/api/users', '/health', '/nope']) {
        await probe(t, `OPTIONS ${p}`, 'json4xx', async () => codeIs(await rawExchange(t.port, head('OPTIONS', p, { 'Content-Length': '0', Origin: 'http://evil.example', 'Access-Control-Request-Method': 'DELETE' })), 'method_not_allowed'));
      }
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

  it('7: the security probe\'s findings stay fixed (issue 13): request spellings, bodies on GET, unfinished chunked bodies, unsigned dry runs and internal calls, NFC/NFD emails, dry-run order ids, the CDC worker API, stack file modes', async () => {
    const started = Date.now();
    const problems: string[] = [];
    let checks = 0;
    const check = (what: string, ok: boolean, got: unknown) => {
      checks += 1;
      if (!ok) problems.push(`${what}: ${JSON.stringify(got).slice(0, 200)}`);
    };
    const port = facade.facade.server.port;
    const hasCode = (res: RawResponse, status: number, code: string) => res.status === status && res.body.includes(`"code":"${code}"`);

    // 1. Targets whose meaning differs between the facade's matcher and the upstream's: refused, never routed.
    const spellings: [string, string][] = [
      ['GET', '/api/users#x'],
      ['GET', '/api/users/1#/../../x'],
      ['GET', '/api/users\\1'],
      ['POST', '/api/users#x'],
      ['GET', '/api/./users/1'],
      ['GET', '/api/x/../users/1'],
      ['GET', '/api/%75sers/1'],
      ['GET', '/api/users%2F1'],
      ['GET', '/api/users/%zz'],
    ];
    for (const [method, target] of spellings) {
      const res = await rawExchange(port, head(method, target, { 'Content-Length': '0' }));
      check(`${method} ${target}`, hasCode(res, 400, 'invalid_target') && res.headers['x-strangler-upstream'] === undefined, res);
    }
    // 3. A GET with a body; 9. a chunked body that never ends (UPSTREAM_TIMEOUT_MS is 3 s here).
    check('GET with a body', hasCode(await rawExchange(port, head('GET', '/api/users/1', { 'Content-Length': '2' }) + '{}'), 400, 'body_not_allowed'), 'GET with a body');
    const unfinished = await rawExchange(port, head('POST', '/api/users', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }) + '5\r\n{"a":\r\n');
    check('a chunked body that never ends', hasCode(unfinished, 408, 'request_timeout'), unfinished);
    // 10. Node's parser errors and an oversized login form, in the JSON shape with the right limit.
    check('2000 header fields at the facade', hasCode(await rawExchange(port, head('GET', '/api/users/1', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, 'v'])))), 431, 'headers_too_large'), '2000 headers');
    const login413 = await request(facade.url).post('/_strangler/login').type('form').send({ token: 'a'.repeat(5000) });
    check('an oversized login form', login413.status === 413 && login413.body.error?.message === 'request body exceeds 4 KB', login413.body);

    // 5. Dry runs and internal routes straight at the services, without the facade's signature.
    const dryEmail = `unsigned-dry-${Date.now()}@example.com`;
    const dryUser = await request(shop.users.server.url).post('/api/users').set('x-strangler-shadow', '1').send({ email: dryEmail, name: 'Unsigned' });
    check('unsigned dry run at users', dryUser.status === 401 && dryUser.body.error?.code === 'unauthorized', dryUser.body);
    const forged = await request(shop.users.server.url).post('/api/users').set({ 'x-strangler-shadow': '1', 'x-request-id': 'forged', 'x-strangler-signature': 'A'.repeat(43) }).send({ email: dryEmail, name: 'Forged' });
    check('forged dry run at users', forged.status === 401, forged.body);
    const dryOrder = await request(shop.orders.server.url).post('/api/orders').set('x-strangler-shadow', '1').send({ userId: 1, items: [{ sku: 'A', quantity: 1, unitPriceCents: 1 }] });
    check('unsigned dry run at orders', dryOrder.status === 401, dryOrder.body);
    const capture = await request(shop.payments.server.url).post('/internal/payments').set('idempotency-key', 'unsigned-capture').send({ orderId: 1_900_000_001, amountCents: 1 });
    check('unsigned capture', capture.status === 401, capture.body);
    const refund = await request(shop.payments.server.url).post('/internal/payments/1/refund');
    check('unsigned refund', refund.status === 401, refund.body);
    const limit = await request(shop.payments.server.url).post('/internal/payments').set(signedCall()).set('idempotency-key', 'chosen-limit').send({ orderId: 1_900_000_002, amountCents: 200_000, limitCents: 1_000_000_000 });
    check('a caller-chosen decline limit', limit.status === 201 && limit.body.status === 'declined', limit.body);

    // 11. One account per email, whichever Unicode normalization the client used (through the facade: the monolith).
    const stamp = Date.now().toString(36);
    const nfd = await request(facade.url).post('/api/users').send({ email: `jose\u0301-${stamp}@example.com`, name: 'José' });
    const nfc = await request(facade.url).post('/api/users').send({ email: `jos\u00e9-${stamp}@example.com`, name: 'José' });
    check('NFD then NFC email', nfd.status === 201 && nfc.status === 409 && nfc.body.error?.code === 'email_taken', [nfd.status, nfc.body]);

    // 12. The orders dry run before extraction: its order id is none that payments already has a payment for.
    const [[seq]] = (await shop.orders.sequelize.query('SELECT last_value::int AS last, is_called FROM orders_id_seq')) as [{ last: number; is_called: boolean }[], unknown];
    const next = seq.is_called ? seq.last + 1 : seq.last;
    await shop.payments.sequelize.query(
      "INSERT INTO payments (order_id, amount_cents, status) SELECT g, 100, 'captured' FROM generate_series(:from::int, :to::int) g ON CONFLICT (order_id) DO NOTHING",
      { replacements: { from: next, to: next + 20 } },
    );
    const buyer = await request(shop.users.server.url).post('/api/users').send({ email: `buyer-${stamp}@example.com`, name: 'Buyer' });
    const dry = await request(shop.orders.server.url).post('/api/orders').set(signedDryRun()).send({ userId: buyer.body.id, items: [{ sku: 'A', quantity: 1, unitPriceCents: 100 }] });
    check('a dry-run order before extraction', dry.status === 201 && dry.body.status === 'paid', dry.body);

    // 4. The CDC worker's API: token, Host and JSON, on a real worker over this run's Postgres and Kafka.
    const cdcDb = await createTestDatabase('cdc');
    const registry = await PipelineRegistry.open(cdcDb.url);
    const logger = createLogger('cdc', 'silent');
    const worker = new CdcWorker(testPlan({ monolith: monolith.server.url }), withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, logger);
    const api = await listen(createWorkerApp(worker, registry, logger, { adminToken: TEST_ADMIN_TOKEN }), 0);
    try {
      const bearer = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      check('worker without a token', hasCode(await rawExchange(api.port, head('POST', '/contexts/users/extract', { 'Content-Length': '0' })), 401, 'unauthorized'), 'no token');
      check('worker under a rebinding Host', (await request(api.url).get('/pipelines').set(bearer).set('host', 'evil.example:8083')).status === 403, 'foreign Host');
      check('worker body-less POST', (await request(api.url).post('/contexts/users/extract').set(bearer)).status === 415, 'no body');
      check('worker text/plain POST', (await request(api.url).post('/contexts/users/sync').set(bearer).set('content-type', 'text/plain').send('{}')).status === 415, 'text/plain');
      const listed = await request(api.url).get('/pipelines').set(bearer);
      check('worker ran nothing it was asked without the token', listed.status === 200 && listed.body.items.length === 0, listed.body);
    } finally {
      await worker.stop();
      await api.close();
      await registry.close();
      await cdcDb.drop();
    }

    // 2. What the stack writes: secrets and logs 0600 in 0700 folders.
    const home = tempStackHome();
    try {
      const paths = prepareHome(home);
      loadOrCreateSecrets(home);
      writeStackState({ startedAt: new Date().toISOString(), pid: process.pid, components: [] }, home);
      fs.closeSync(openLog(path.join(paths.logs, 'facade.log')));
      const modes = [paths.private, paths.logs, paths.secretsFile, paths.stateFile, path.join(paths.logs, 'facade.log')].map((p) => (fs.statSync(p).mode & 0o777).toString(8));
      check('stack file modes', JSON.stringify(modes) === JSON.stringify(['700', '700', '600', '600', '600']), modes);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }

    report('7-security-probe', { checks, problems, totalMs: Date.now() - started });
    expect(problems).toEqual([]);
  });

  it('8: admin and dashboard routes refuse a missing or wrong token with 401 (429 once an address guessed too often) and show nothing; logout ends a session', async () => {
    // Before any wrong token: the right one works, and a session ends on the server when it logs out.
    expect((await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`)).status).toBe(200);
    const session = ([] as string[]).concat((await request(facade.url).post('/_strangler/login').type('form').set('x-forwarded-proto', 'https').send({ token: TEST_ADMIN_TOKEN })).headers['set-cookie'] ?? [])[0] ?? '';
    // Without TRUST_PROXY a client's X-Forwarded-Proto does not make the cookie Secure (nor anything else).
    expect(session).not.toMatch(/; Secure/);
    const cookie = session.split(';')[0];
    expect((await request(facade.url).get('/_strangler/status').set('cookie', cookie)).status).toBe(200);
    expect((await request(facade.url).post('/_strangler/logout').set('cookie', cookie)).status).toBe(303);
    expect((await request(facade.url).get('/_strangler/status').set('cookie', cookie)).status).toBe(401);

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
      ['forged session cookie', { cookie: `strangler_session=${future}.${'A'.repeat(22)}.${'A'.repeat(43)}` }],
      ['logged-out session cookie', { cookie }],
      ['token as cookie', { cookie: `strangler_session=${TEST_ADMIN_TOKEN}` }],
      ['csrf header alone', { 'x-strangler-csrf': '1' }],
      ['token in a spoofed header', { 'x-strangler-admin-token': TEST_ADMIN_TOKEN, 'x-admin-token': TEST_ADMIN_TOKEN }],
    ];
    const problems: string[] = [];
    for (const [method, path] of routes) {
      for (const [what, headers] of credentials) {
        const res = await request(facade.url)[method.toLowerCase() as 'get'](path).set(headers).send(method === 'POST' ? { force: true } : undefined);
        const leaks = /canary|shadow|monolith|"contexts"/.test(res.text);
        const refused = (res.status === 401 && res.body?.error?.code === 'unauthorized') || (res.status === 429 && res.body?.error?.code === 'too_many_attempts');
        if (!refused || leaks) problems.push(`${method} ${path} with ${what}: ${res.status} ${res.text.slice(0, 100)}`);
      }
    }
    // Guessing has a budget: after this many wrong tokens, the right one is refused too, with Retry-After.
    const limited = await request(facade.url).get('/_strangler/status').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`);
    if (limited.status !== 429 || !(Number(limited.headers['retry-after']) > 0)) problems.push(`the right token after the guesses: ${limited.status}`);
    for (const [what, headers] of credentials) {
      const page = await request(facade.url).get('/_strangler/').set(headers);
      if (page.status !== 200 || !page.text.includes('name="token"') || page.text.includes('Log out')) problems.push(`dashboard page with ${what}: ${page.status}`);
    }
    const login = await request(facade.url).post('/_strangler/login').type('form').send({ token: 'wrong-token-0123456789' });
    if (![401, 429].includes(login.status) || login.headers['set-cookie']) problems.push(`login with a wrong token: ${login.status} ${String(login.headers['set-cookie'])}`);
    report('8-admin-auth', { requests: routes.length * credentials.length + credentials.length + 1, problems });
    expect(problems).toEqual([]);
  });
});
