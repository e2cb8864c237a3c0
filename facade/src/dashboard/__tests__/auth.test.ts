import request from 'supertest';
import { adminAuth, SESSION_TTL_SECONDS } from '../../admin/auth';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../../../testing';

jest.setTimeout(60_000);

/** The session cookie from a successful login, ready for a `Cookie` header. */
function cookieOf(res: request.Response): string {
  const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  expect(set).toHaveLength(1);
  return set[0].split(';')[0];
}

describe('dashboard login, session cookie and CSRF rules', () => {
  let facade: TestFacade;
  const login = (token: string, origin?: string) => {
    const r = request(facade.url).post('/_strangler/login').type('form').send({ token });
    return origin ? r.set('origin', origin) : r;
  };

  beforeAll(async () => {
    // No Unleash: stage actions answer 503 once past the auth checks, which is all these tests need.
    facade = await startTestFacade({ plan: testPlan({ monolith: 'http://127.0.0.1:9' }) });
  });
  afterAll(async () => {
    await facade?.destroy();
  });

  it('shows only the login form without a session, under a strict CSP', async () => {
    const res = await request(facade.url).get('/_strangler/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.text).toContain('action="/_strangler/login"');
    expect(res.text).toContain('name="token"');
    expect(res.text).not.toContain('data-context');
    expect(res.text).not.toMatch(/users|orders|payments|notifications/);
  });

  it('answers a wrong token with the form again, an error and 401, and sets no cookie', async () => {
    const res = await login('not-the-admin-token');
    expect(res.status).toBe(401);
    expect(res.text).toContain('That admin token is not right');
    expect(res.text).toContain('name="token"');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await login('')).status).toBe(401);
  });

  it('sets an HttpOnly, SameSite=Strict cookie scoped to /_strangler that does not contain the token', async () => {
    const res = await login(TEST_ADMIN_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/_strangler/');
    const [header] = ([] as string[]).concat(res.headers['set-cookie']);
    expect(header).toMatch(/^strangler_session=/);
    expect(header).toMatch(/; HttpOnly/);
    expect(header).toMatch(/; SameSite=Strict/);
    expect(header).toMatch(/; Path=\/_strangler(;|$)/);
    expect(header).toMatch(new RegExp(`; Max-Age=${SESSION_TTL_SECONDS}`));
    expect(header).not.toContain(TEST_ADMIN_TOKEN);
  });

  it('opens the dashboard and the JSON API with the cookie; without anything the API is still 401', async () => {
    const cookie = cookieOf(await login(TEST_ADMIN_TOKEN));
    const page = await request(facade.url).get('/_strangler/').set('cookie', cookie);
    expect(page.status).toBe(200);
    for (const name of ['notifications', 'payments', 'users', 'orders']) expect(page.text).toContain(`data-context="${name}"`);
    expect(page.text).toContain('src="/_strangler/assets/dashboard.js"');

    const status = await request(facade.url).get('/_strangler/status').set('cookie', cookie);
    expect(status.status).toBe(200);
    expect(status.body.contexts.map((c: { name: string }) => c.name)).toEqual(['notifications', 'payments', 'users', 'orders']);
    expect((await request(facade.url).get('/_strangler/diffs').set('cookie', cookie)).status).toBe(200);
    const traffic = await request(facade.url).get('/_strangler/traffic').set('cookie', cookie);
    expect(traffic.status).toBe(200);
    expect(traffic.body).toMatchObject({ windowSeconds: 30, contexts: expect.any(Object) });

    for (const path of ['/_strangler/status', '/_strangler/diffs', '/_strangler/traffic']) {
      const res = await request(facade.url).get(path);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    // An explicit but wrong Bearer token is not rescued by a valid cookie.
    expect((await request(facade.url).get('/_strangler/status').set('cookie', cookie).set('authorization', 'Bearer wrong')).status).toBe(401);
  });

  it('refuses a state-changing request on the cookie without the CSRF header; Bearer callers need none', async () => {
    const cookie = cookieOf(await login(TEST_ADMIN_TOKEN));
    const bare = await request(facade.url).post('/_strangler/contexts/users/advance').set('cookie', cookie).send({});
    expect(bare.status).toBe(403);
    expect(bare.body.error.code).toBe('csrf_required');
    // What a cross-site HTML form could send: the cookie (were it not SameSite=Strict) and a form body.
    const form = await request(facade.url).post('/_strangler/contexts/users/rollback').set('cookie', cookie).type('form').send({ force: 'true' });
    expect(form.status).toBe(403);
    expect((await request(facade.url).post('/_strangler/contexts/users/advance').set('cookie', cookie).set('x-strangler-csrf', 'yes').send({})).status).toBe(403);

    const withHeader = await request(facade.url).post('/_strangler/contexts/users/advance').set('cookie', cookie).set('x-strangler-csrf', '1').send({});
    expect(withHeader.status).toBe(503);
    expect(withHeader.body.error.code).toBe('stages_unavailable');
    const bearer = await request(facade.url).post('/_strangler/contexts/users/advance').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`).send({});
    expect(bearer.status).toBe(503);
    expect((await request(facade.url).post('/_strangler/contexts/users/advance').set('x-strangler-csrf', '1').send({})).status).toBe(401);
  });

  it('rejects forged, tampered and expired cookies', async () => {
    const cookie = cookieOf(await login(TEST_ADMIN_TOKEN));
    const [, value] = cookie.split('=');
    const [expires, nonce, mac] = value.split('.');
    const status = (c: string) => request(facade.url).get('/_strangler/status').set('cookie', c).then((r) => r.status);
    expect(await status(`strangler_session=${Number(expires) + 60}.${nonce}.${mac}`)).toBe(401);
    expect(await status(`strangler_session=${expires}.${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}.${mac}`)).toBe(401);
    expect(await status(`strangler_session=${expires}.${nonce}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBe(401);
    expect(await status(`strangler_session=${TEST_ADMIN_TOKEN}`)).toBe(401);
    const otherToken = adminAuth('another-token-0123456789').sessionCookie(false).split(';')[0];
    expect(await status(otherToken)).toBe(401);
    const longAgo = adminAuth(TEST_ADMIN_TOKEN, () => Date.now() - (SESSION_TTL_SECONDS + 60) * 1000).sessionCookie(false).split(';')[0];
    expect(await status(longAgo)).toBe(401);
    const page = await request(facade.url).get('/_strangler/').set('cookie', longAgo);
    expect(page.text).not.toContain('data-context');
    expect(await status(cookie)).toBe(200);
  });

  it('refuses a login or logout posted from another site', async () => {
    const res = await login(TEST_ADMIN_TOKEN, 'http://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
    const host = new URL(facade.url).host;
    expect((await login(TEST_ADMIN_TOKEN, `http://${host}`)).status).toBe(303);
    expect((await request(facade.url).post('/_strangler/logout').set('origin', 'http://evil.example')).status).toBe(403);
  });

  it('logs out by clearing the cookie', async () => {
    const res = await request(facade.url).post('/_strangler/logout');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/_strangler/');
    const [header] = ([] as string[]).concat(res.headers['set-cookie']);
    expect(header).toMatch(/^strangler_session=; Path=\/_strangler; Max-Age=0; HttpOnly; SameSite=Strict/);
  });

  it('serves its script and stylesheet itself, and nothing else', async () => {
    const js = await request(facade.url).get('/_strangler/assets/dashboard.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    const css = await request(facade.url).get('/_strangler/assets/dashboard.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    for (const name of ['nope.js', 'constructor', '__proto__', '..%2Fpage.ts']) expect((await request(facade.url).get(`/_strangler/assets/${name}`)).status).toBe(404);
  });
});
