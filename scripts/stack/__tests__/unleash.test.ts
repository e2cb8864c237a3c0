import pkg from '../../../package.json';
import { eventually } from '../../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../../test/harness/unleash';

/** What the local stack promises a person about its Unleash (README: the stack's table, `strangler up`'s banner). */
describe('the local stack\'s Unleash server', () => {
  let unleash: TestUnleash;

  beforeAll(async () => {
    unleash = await startTestUnleash();
  }, 120_000);
  afterAll(() => unleash?.stop(), 30_000);

  it('is the unleash-server that package.json pins', async () => {
    const res = await fetch(`${unleash.url}/api/admin/ui-config`, { headers: { authorization: unleash.adminToken } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { versionInfo?: { current?: { oss?: string } } };
    expect(body.versionInfo?.current?.oss).toBe(pkg.dependencies['unleash-server']);
  });

  it('lets a person into the UI with the login `strangler up` prints, and nobody with a wrong password', async () => {
    const login = (password: string) =>
      fetch(`${unleash.url}/auth/simple/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: unleash.uiLogin.user, password }),
      });
    expect(unleash.uiLogin).toEqual({ user: 'admin', password: 'unleash4all' });

    // Unleash creates its first admin user in the background after it starts answering: on a busy machine the very
    // first login can come before it.
    let ok!: Response;
    await eventually(async () => {
      ok = await login(unleash.uiLogin.password);
      expect(ok.status).toBe(200);
    }, 15_000, 500);
    const cookie = ok.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    // Its session store, too, may take a moment after the login's answer on a busy machine (seen at load 20: 401).
    await eventually(async () => {
      const me = await fetch(`${unleash.url}/api/admin/user`, { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user?: { username?: string } }).user?.username).toBe('admin');
    }, 15_000, 500);

    expect((await login('not-the-password')).status).toBe(401);
  });
});
