import http from 'node:http';
import request from 'supertest';
import { listen, type RunningServer } from '../../lib/http/server';
import { head, rawExchange } from '../../test/faults/support/raw-http';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';

jest.setTimeout(90_000);

/** The session cookie from a successful login, ready for a `Cookie` header. */
const cookieOf = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]?.split(';')[0];

describe('facade hardening: forwarded headers, sessions, failed tokens, unfinished bodies, error shapes', () => {
  let upstream: RunningServer;
  /** What the upstream received, by request id. */
  const seen = new Map<string, http.IncomingHttpHeaders>();
  let facade: TestFacade;
  let behindProxy: TestFacade;

  beforeAll(async () => {
    upstream = await listen((req, res) => {
      seen.set(String(req.headers['x-request-id']), req.headers);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    }, 0);
    const plan = () => testPlan({ monolith: upstream.url });
    [facade, behindProxy] = await Promise.all([startTestFacade({ plan: plan() }), startTestFacade({ plan: plan(), env: { TRUST_PROXY: 'true' } })]);
  });
  afterAll(async () => {
    await Promise.all([facade?.destroy(), behindProxy?.destroy()]);
    await upstream?.close();
  });

  const spoofed = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', forwarded: 'for=6.6.6.6;host=evil.example' };

  it('replaces client-sent X-Forwarded-* (and drops Forwarded) unless TRUST_PROXY is on', async () => {
    await request(facade.url).get('/api/users/1').set(spoofed).set('x-request-id', 'fwd-1').expect(200);
    const direct = seen.get('fwd-1')!;
    expect({ for: direct['x-forwarded-for'], host: direct['x-forwarded-host'], proto: direct['x-forwarded-proto'], port: direct['x-forwarded-port'], forwarded: direct.forwarded }).toEqual({
      for: '127.0.0.1',
      host: new URL(facade.url).host,
      proto: 'http',
      port: String(facade.facade.server.port),
      forwarded: undefined,
    });
    await request(behindProxy.url).get('/api/users/1').set(spoofed).set('x-request-id', 'fwd-2').expect(200);
    const proxied = seen.get('fwd-2')!;
    expect({ for: proxied['x-forwarded-for'], host: proxied['x-forwarded-host'], proto: proxied['x-forwarded-proto'] }).toEqual({ for: '6.6.6.6,127.0.0.1', host: 'evil.example', proto: 'https,http' });
  });

  it('marks the session cookie Secure on X-Forwarded-Proto: https only behind a trusted proxy', async () => {
    const login = (f: TestFacade) => request(f.url).post('/_strangler/login').type('form').set('x-forwarded-proto', 'https').send({ token: TEST_ADMIN_TOKEN });
    const [plain] = ([] as string[]).concat((await login(facade)).headers['set-cookie']);
    expect(plain).not.toMatch(/; Secure/);
    const [secure] = ([] as string[]).concat((await login(behindProxy)).headers['set-cookie']);
    expect(secure).toMatch(/; Secure/);
  });

  it('logging out ends the session on the server: the old cookie no longer opens the API or the dashboard', async () => {
    const cookie = cookieOf(await request(facade.url).post('/_strangler/login').type('form').send({ token: TEST_ADMIN_TOKEN }));
    const other = cookieOf(await request(facade.url).post('/_strangler/login').type('form').send({ token: TEST_ADMIN_TOKEN }));
    expect((await request(facade.url).get('/_strangler/status').set('cookie', cookie)).status).toBe(200);
    expect((await request(facade.url).post('/_strangler/logout').set('cookie', cookie)).status).toBe(303);
    const after = await request(facade.url).get('/_strangler/status').set('cookie', cookie);
    expect({ status: after.status, code: after.body.error?.code }).toEqual({ status: 401, code: 'unauthorized' });
    const page = await request(facade.url).get('/_strangler/').set('cookie', cookie);
    expect(page.text).toContain('name="token"');
    expect(page.text).not.toContain('data-context');
    // Only that session: another login's cookie still works.
    expect((await request(facade.url).get('/_strangler/status').set('cookie', other)).status).toBe(200);
  });

  it('a chunked body that never finishes gets a JSON 408 at the upstream timeout', async () => {
    const res = await rawExchange(facade.facade.server.port, head('POST', '/api/users', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }) + '5\r\n{"a":\r\n');
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'request_timeout', message: 'the request body did not arrive within 3000 ms' } });
  });

  it('refuses a GET or HEAD that carries a body with 400 JSON', async () => {
    for (const method of ['GET', 'HEAD']) {
      const withLength = await rawExchange(facade.facade.server.port, head(method, '/api/users/1', { 'Content-Length': '2' }) + '{}');
      expect([method, withLength.status]).toEqual([method, 400]);
      if (method === 'GET') expect(JSON.parse(withLength.body).error.code).toBe('body_not_allowed');
      const chunked = await rawExchange(facade.facade.server.port, head(method, '/api/users/1', { 'Transfer-Encoding': 'chunked' }) + '2\r\n{}\r\n0\r\n\r\n');
      expect([method, chunked.status]).toEqual([method, 400]);
    }
    expect((await rawExchange(facade.facade.server.port, head('GET', '/api/users/1', { 'Content-Length': '0' }))).status).toBe(200);
  });

  it('answers what Node\'s parser refuses, OPTIONS and an oversized login form in the JSON error shape', async () => {
    const manyHeaders = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, 'v']));
    const tooMany = await rawExchange(facade.facade.server.port, head('GET', '/api/users/1', manyHeaders));
    expect({ status: tooMany.status, body: JSON.parse(tooMany.body) }).toEqual({ status: 431, body: { error: { code: 'headers_too_large', message: expect.any(String) } } });
    const garbage = await rawExchange(facade.facade.server.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect({ status: garbage.status, code: JSON.parse(garbage.body).error.code }).toEqual({ status: 400, code: 'bad_request' });
    for (const path of ['/_strangler/status', '/_strangler/', '/_strangler/login']) {
      const res = await request(facade.url).options(path);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 405, code: 'method_not_allowed' });
    }
    const big = await request(facade.url).post('/_strangler/login').type('form').send({ token: 'a'.repeat(5000) });
    expect({ status: big.status, body: big.body }).toEqual({ status: 413, body: { error: { code: 'payload_too_large', message: 'request body exceeds 4 KB' } } });
  });

  it('answers 429 with Retry-After past 10 wrong tokens from one address, the right token and the login form included', async () => {
    const status = (token: string) => request(behindProxy.url).get('/_strangler/status').set('authorization', `Bearer ${token}`);
    for (let i = 0; i < 10; i++) expect((await status(`wrong-token-${i}-0123456789`)).status).toBe(401);
    const limited = await status(TEST_ADMIN_TOKEN);
    expect({ status: limited.status, code: limited.body.error?.code }).toEqual({ status: 429, code: 'too_many_attempts' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const login = await request(behindProxy.url).post('/_strangler/login').type('form').send({ token: TEST_ADMIN_TOKEN });
    expect(login.status).toBe(429);
    expect(login.headers['set-cookie']).toBeUndefined();
  });
});
