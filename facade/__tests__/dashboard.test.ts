import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage, readStage } from '../../control/flags/stage-flags';
import { startTestMonolith, type TestMonolith } from '../../monolith/testing';
import { startTestUsersService, type TestUsersService } from '../../extracted/users/testing';
import { eventually } from '../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startTestFacade, testPlan, TEST_ADMIN_TOKEN, type TestFacade } from '../testing';
import { workshopFromConfig } from '../../lib/http/workshop';
import { USERS_BUGS } from '../../extracted/users/src/users/users.service';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve(__dirname, '..', '..', 'test-artifacts', 'dashboard.png');
const LOGIN_SCREENSHOT = path.resolve(__dirname, '..', '..', 'test-artifacts', 'dashboard-login.png');
const stageScreenshot = (stage: string) => path.resolve(__dirname, '..', '..', 'test-artifacts', `dashboard-${stage}.png`);
// Evaluated in the page (strings: this project's TypeScript has no DOM types).
const STATUS_FROM_PAGE = "fetch('/_strangler/status').then((r) => r.status)";

describe('dashboard in a real browser (chromium, real Unleash, monolith and users service)', () => {
  let unleash: TestUnleash;
  let monolith: TestMonolith;
  let users: TestUsersService;
  let facade: TestFacade;
  let admin: UnleashAdminClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const card = (name: string) => page.locator(`[data-context="${name}"]`);
  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const cells = async (row: string | Locator) => (await (typeof row === 'string' ? page.locator(row) : row).locator('td').allTextContents()).map((s) => s.trim());
  const stageOf = (name: string) => text(`[data-context="${name}"] [data-field="stage"]`);

  beforeAll(async () => {
    // The users service runs in workshop mode, so a planted bug can be switched on and the card must say so.
    const workshop = workshopFromConfig('users', { STRANGLER_WORKSHOP: '1', STRANGLER_ADMIN_TOKEN: TEST_ADMIN_TOKEN }, USERS_BUGS);
    [unleash, monolith, users] = await Promise.all([startTestUnleash(), startTestMonolith(), startTestUsersService({ workshop })]);
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    // User 1 is the same on both sides; user 2 has a planted difference in its name.
    await monolith.sequelize.query("INSERT INTO users (email, name) VALUES ('same@example.com', 'Same'), ('ada@example.com', 'Ada Lovelace')");
    await users.sequelize.query("INSERT INTO users (email, full_name) VALUES ('same@example.com', 'Same'), ('ada@example.com', 'Ada L.')");
    await applyStage(admin, 'users', 'shadow');
    facade = await startTestFacade({
      plan: testPlan({ monolith: monolith.server.url, users: users.server.url }),
      unleash,
      // A point a second, so the charts fill within the test (10 s in production).
      env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken, SERIES_RESOLUTION_SECONDS: '1' },
    });
    await eventually(() => expect(facade.facade.flags.state('users').stage).toBe('shadow'), 5_000, 50);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    // A projector's resolution.
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    page = await context.newPage();
    // A CSP violation or a script error would leave the page silently stale: collect them and fail at the end.
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      // The refused advance (409) and the API after logout (401) are expected answers, not problems.
      if (msg.type() === 'error' && !/status of (401|409)/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await facade?.destroy();
    await Promise.all([unleash?.stop(), monolith?.stop(), users?.stop()]);
  });

  it('shows nothing but the login form without a session, and an error for a wrong token', async () => {
    const res = await page.goto(`${facade.url}/_strangler/`);
    expect(res?.status()).toBe(200);
    expect(await page.locator('form.login-form input[name="token"]').isVisible()).toBe(true);
    expect(await page.locator('[data-context]').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toMatch(/notifications|payments|orders/);

    await page.fill('#token', 'not-the-admin-token');
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/_strangler/login')), page.click('button[type="submit"]')]);
    expect(answer.status()).toBe(401);
    expect(await text('.login-error')).toBe('That admin token is not right. Try again.');
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: LOGIN_SCREENSHOT });
    expect(await page.locator('[data-context]').count()).toBe(0);
    expect(await context.cookies()).toEqual([]);
  });

  it('logs in through the form and shows the four contexts with their live state', async () => {
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${facade.url}/_strangler/`), page.click('button[type="submit"]')]);
    const names = await Promise.all((await page.locator('[data-context]').all()).map((el) => el.getAttribute('data-context')));
    expect(names).toEqual(['notifications', 'payments', 'users', 'orders']);

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'strangler_session', httpOnly: true, sameSite: 'Strict', path: '/_strangler' });
    expect(cookie.value).not.toContain(TEST_ADMIN_TOKEN);
    // HttpOnly: the page's own script cannot read it; the JSON API accepts it.
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate(STATUS_FROM_PAGE)).toBe(200);
    expect((await request(facade.url).get('/_strangler/status')).status).toBe(401);

    await eventually(async () => expect(await text('#live')).toMatch(/^● live · updated/), 5_000);
    expect(await stageOf('users')).toBe('shadow');
    expect(await stageOf('notifications')).toBe('monolith');
    expect(await text('[data-context="users"] [data-field="pipelines"]')).toBe('no CDC worker');
    expect(await text('[data-context="users"] [data-field="breaker"]')).toBe('closed');
    expect(await text('[data-context="users"] [data-field="rollback"]')).toBe('none since the facade started');

    // Traffic through the facade shows up on its own: the monolith answers while the service is shadowed.
    await page.evaluate("window.marker = 'no reload'");
    for (let i = 0; i < 6; i++) expect((await request(facade.url).get(`/api/users/${(i % 2) + 1}`).set('x-request-id', `dash-${i}`)).status).toBe(200);
    await eventually(async () => expect(await text('[data-context="users"] [data-field="traffic-text"]')).toMatch(/^monolith 100% \(6\) service 0% \(0\) — last \d+ s$/), 5_000);
    await eventually(async () => expect(await text('[data-context="users"] [data-field="shadow"]')).toMatch(/^diff rate 50\.0% 3 of 6 compared · sampling 100%$/), 5_000);

    // Diffs grouped like Diffy: per route, then per JSON path; the folded row names the path, identical diffs once.
    const group = card('users').locator('details.diff-group[data-path="$.name"]');
    await group.waitFor({ timeout: 5_000 });
    expect(await text('[data-context="users"] .diff-route h4')).toBe('* /api/users/:id — 3 of 6 compared differed');
    expect((await group.locator('summary').textContent())?.replace(/\s+/g, ' ')).toMatch(/^\$\.name — 3× \(50\.0% of comparisons\) · 1 distinct · last /);
    expect(await group.locator('table').isVisible()).toBe(false);
    await group.locator('summary').click();
    expect(await group.locator('tbody tr').count()).toBe(1);
    expect(await cells(group.locator('tbody tr').first())).toEqual(['"Ada Lovelace"', '"Ada L."', '3×', 'GET /api/users/2']);
    // Still open after the next polls.
    await page.waitForTimeout(2_000);
    expect(await card('users').locator('details.diff-group').first().locator('table').isVisible()).toBe(true);

    // The charts fill from the server-side series, with the shadow traffic in them.
    // (A bucket without comparisons has no diff rate: the 6 requests may all fall in one second, so one point or more.)
    const points = (chart: string, series: string) => card('users').locator(`[data-chart="${chart}"] path[data-series="${series}"]`).getAttribute('data-points').then(Number);
    await eventually(async () => expect(await points('diffRate', 'diff rate')).toBeGreaterThanOrEqual(1), 10_000, 200);
    await eventually(async () => expect(await points('split', 'flag percent')).toBeGreaterThan(2), 10_000, 200);
    expect(await text('[data-context="users"] [data-chart="split"] [data-value]')).toMatch(/^(0% now|no traffic) · flag 0%$|^no traffic$/);

    // The next stage's gates show before anyone presses Advance, with their numbers.
    const next = '[data-context="users"] [data-field="next"]';
    await eventually(async () => expect(await text(`${next} h3`)).toBe('Gates to canary 10%: 2 of 3 gates fail'), 5_000);
    expect(await cells(`${next} [data-gate="shadow.compared"]`)).toEqual(['shadow.compared', '✖ fail', '6 requests compared (min 100)']);
    expect(await cells(`${next} [data-gate="reconcile.clean"]`)).toEqual(['reconcile.clean', '◌ on Advance', 'checked when Advance is pressed (reconcile compares every row of both sides)']);
    await page.screenshot({ path: stageScreenshot('shadow'), fullPage: true });
  });

  it('shows a workshop switch on the service\'s card while it is on, and nothing once it is off', async () => {
    const notices = '[data-context="users"] [data-field="notices"]';
    const bug = (on: boolean) =>
      request(users.server.url).post('/_workshop/bugs/users-name-truncated').set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`).send({ on }).expect(200);
    expect(await text(notices)).toBe('');
    await bug(true);
    await eventually(async () => expect(await text(notices)).toBe('Service says: workshop bug on: users-name-truncated'), 10_000, 200);
    expect(await text('[data-context="payments"] [data-field="notices"]')).toBe('');
    await bug(false);
    await eventually(async () => expect(await text(notices)).toBe(''), 10_000, 200);
  });

  it('shows the failing gates with their numbers when an advance is refused, and offers to force it', async () => {
    const next = '[data-context="notifications"] [data-field="next"]';
    expect(await text(`${next} h3`)).toBe('Gates to shadow: 2 of 2 gates fail');
    expect(await cells(`${next} [data-gate="forward.streaming"]`)).toEqual(['forward.streaming', '✖ fail', 'pipeline notifications-forward is absent']);
    await card('notifications').locator('[data-action="advance"]').click();
    expect(await page.locator('#confirm').isVisible()).toBe(true);
    expect(await text('#confirm-text')).toBe('Advance notifications from monolith to shadow? The gates are checked first.');
    // Cancelling does nothing.
    await page.click('#confirm-no');
    expect(await page.locator('#confirm').isVisible()).toBe(false);
    expect(await text('[data-context="notifications"] [data-field="result"]')).toBe('');

    await card('notifications').locator('[data-action="advance"]').click();
    await page.click('#confirm-yes');
    const result = '[data-context="notifications"] [data-field="result"]';
    await page.locator(`${result} table.gates`).waitFor({ timeout: 10_000 });
    expect(await text(`${result} h4`)).toBe('✖ Gates refused to advance notifications');
    expect(await cells(`${result} [data-gate="forward.streaming"]`)).toEqual(['forward.streaming', '✖ fail', 'pipeline notifications-forward is absent']);
    expect(await cells(`${result} [data-gate="forward.lag"]`)).toEqual(['forward.lag', '✖ fail', 'pipeline notifications-forward lag unknown (max 5000 ms)']);
    expect(await page.locator(`${result} [data-action="force"]`).isVisible()).toBe(true);
    expect((await readStage(admin, 'notifications')).stage).toBe('monolith');
    expect(await stageOf('notifications')).toBe('monolith');
  });

  it('at canary 50 % the live split is within a few points of the flag, charts and gates follow', async () => {
    await applyStage(admin, 'users', 'canary', 50);
    await eventually(async () => expect(await stageOf('users')).toBe('canary 50%'), 5_000, 100);
    // Load from 400 different users: the flag splits them by user id.
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(facade.url).get('/api/users/1').set('x-user-id', `user-${batch * 20 + i}`)));
      for (const a of answers) expect(a.status).toBe(200);
    }
    let share = 0;
    await eventually(async () => {
      const t = await text('[data-context="users"] [data-field="traffic-text"]');
      const m = /service (\d+)% \((\d+)\)/.exec(t);
      expect(m).not.toBeNull();
      expect(Number(m![2])).toBeGreaterThan(150);
      share = Number(m![1]);
    }, 5_000);
    expect(Math.abs(share - 50)).toBeLessThanOrEqual(8);

    // The series has the stage move as a marker and the split in the chart.
    await eventually(async () => expect(await card('users').locator('[data-chart="split"] .chart-marker[data-marker="→ canary 50%"]').count()).toBe(1), 5_000, 200);
    expect(await text('[data-context="users"] [data-chart="split"] [data-value]')).toMatch(/^\d+% now · flag 50%$/);
    expect(await card('users').locator('[data-chart="latency"] path[data-series="p99"]').count()).toBe(1);
    // The same split from the admin API's series: every request of the canary, counted once.
    await eventually(async () => {
      const series = (await page.evaluate("fetch('/_strangler/series?context=users').then((r) => r.json())")) as { points: { percent: number; requests: { monolith: number; service: number } }[] };
      const atCanary = series.points.filter((p) => p.percent === 50);
      const served = atCanary.reduce((n, p) => n + p.requests.service, 0);
      const total = atCanary.reduce((n, p) => n + p.requests.service + p.requests.monolith, 0);
      expect(total).toBe(400);
      expect(Math.abs((served / total) * 100 - 50)).toBeLessThanOrEqual(8);
    }, 5_000, 200);

    const next = '[data-context="users"] [data-field="next"]';
    await eventually(async () => expect(await text(`${next} h3`)).toBe('Gates to cutover: 2 of 4 gates fail'), 5_000);
    expect((await cells(`${next} [data-gate="service.requests"]`)).slice(0, 2)).toEqual(['service.requests', '✔ pass']);
    expect(await cells(`${next} [data-gate="reverse.streaming"]`)).toEqual(['reverse.streaming', '✖ fail', 'pipeline users-reverse is absent']);
    await page.screenshot({ path: stageScreenshot('canary'), fullPage: true });
  });

  it('follows a stage change made elsewhere, then advances users to retired from the page without reloading', async () => {
    // Someone runs the CLI: the page follows within a couple of seconds.
    await applyStage(admin, 'users', 'cutover');
    await eventually(async () => expect(await stageOf('users')).toBe('cutover'), 4_000, 100);
    // The facade's window starts at its first sample after the flip (one a second): requests after it are counted.
    await page.waitForTimeout(1_100);
    for (let i = 0; i < 4; i++) expect((await request(facade.url).get('/api/users/2')).body.name).toBe('Ada L.');
    // Right after cutover the split is all service: the window never mixes in the canary's traffic.
    await eventually(async () => expect(await text('[data-context="users"] [data-field="traffic-text"]')).toMatch(/^monolith 0% \(0\) service 100% \(4\) — last \d+ s, since the move to cutover$/), 5_000);
    await eventually(async () => expect(await text('[data-context="users"] [data-chart="split"] [data-value]')).toBe('100% now · flag 100%'), 5_000, 200);
    await eventually(async () => expect(await text('[data-context="users"] [data-field="next"] h3')).toBe('Gates to retired: all gates pass'), 5_000);
    await page.screenshot({ path: stageScreenshot('cutover'), fullPage: true });

    await card('users').locator('[data-action="advance"]').click();
    expect(await text('#confirm-text')).toBe('Advance users from cutover to retired? The gates are checked first.');
    await page.click('#confirm-yes');
    const result = '[data-context="users"] [data-field="result"]';
    await eventually(async () => expect(await text(`${result} h4`)).toBe('✔ users: cutover → retired'), 10_000);
    expect(await cells(`${result} [data-gate="fallback.quiet"]`)).toEqual(['fallback.quiet', '✔ pass', 'no fallback to the monolith since the facade started (need 0 s)']);
    await eventually(async () => expect(await stageOf('users')).toBe('retired'), 3_000, 100);
    expect(await card('users').locator('.ladder li.current').textContent()).toBe('retired');
    expect(await card('users').locator('[data-action="advance"]').isDisabled()).toBe(true);
    expect(await page.evaluate('window.marker')).toBe('no reload');
    expect((await readStage(admin, 'users')).stage).toBe('retired');

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
  });

  it('forces a refused advance only after a second confirmation, and says what it skipped', async () => {
    const result = '[data-context="notifications"] [data-field="result"]';
    await page.locator(`${result} [data-action="force"]`).click();
    expect(await text('#confirm-title')).toBe('Force advance?');
    expect(await text('#confirm-text')).toBe('Force notifications from monolith to shadow although gates failed? The failing gates are overridden.');
    await page.click('#confirm-yes');
    await eventually(async () => expect(await text(`${result} h4`)).toBe('✔ notifications: monolith → shadow (forced)'), 10_000);
    expect(await text(result)).toContain('⚠ no CDC worker: pipelines were not started');
    await eventually(async () => expect(await stageOf('notifications')).toBe('shadow'), 3_000, 100);
    expect((await readStage(admin, 'notifications')).stage).toBe('shadow');
  });

  it('works at 1024 px wide and by keyboard alone', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1024);
    const focused = (selector: string) => page.evaluate(`document.activeElement === document.querySelector(${JSON.stringify(selector)})`);
    const tabTo = async (selector: string) => {
      for (let i = 0; i < 300 && !(await focused(selector)); i++) await page.keyboard.press('Tab');
      expect(await focused(selector)).toBe(true);
    };
    // A folded diff group opens with the keyboard.
    await tabTo('[data-context="users"] details.diff-group summary');
    const wasOpen = await card('users').locator('details.diff-group').first().getAttribute('open');
    await page.keyboard.press('Enter');
    expect(await card('users').locator('details.diff-group').first().getAttribute('open')).toBe(wasOpen === null ? '' : null);
    // Advance asks first; Escape cancels.
    await tabTo('[data-context="orders"] [data-action="advance"]');
    await page.keyboard.press('Enter');
    expect(await page.locator('#confirm').isVisible()).toBe(true);
    expect(await text('#confirm-text')).toBe('Advance orders from monolith to shadow? The gates are checked first.');
    await page.keyboard.press('Escape');
    expect(await page.locator('#confirm').isVisible()).toBe(false);
    expect((await readStage(admin, 'orders')).stage).toBe('monolith');
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  it('shows the stage history: the changes made in Unleash and the moves made from the page', async () => {
    await eventually(async () => expect(await page.locator('#history [data-history]').count()).toBe(4), 5_000, 100);
    const rows = await Promise.all((await page.locator('#history [data-history]').all()).map(async (row) => (await cells(row)).slice(1)));
    expect(rows).toEqual([
      ['notifications', 'dashboard', 'monolith → shadow (forced)', '0/2 pass', ''],
      ['users', 'dashboard', 'cutover → retired', '1/1 pass', ''],
      ['users', 'unleash', 'canary 50% → cutover', '—', 'flags changed in Unleash directly (not through strangler)'],
      ['users', 'unleash', 'shadow → canary 50%', '—', 'flags changed in Unleash directly (not through strangler)'],
    ]);
  });

  it('logs out: the login form again, and the JSON API refuses the browser', async () => {
    await Promise.all([page.waitForURL(`${facade.url}/_strangler/`), page.click('.top button[type="submit"]')]);
    expect(await page.locator('form.login-form').isVisible()).toBe(true);
    expect(await page.locator('[data-context]').count()).toBe(0);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(STATUS_FROM_PAGE)).toBe(401);
    expect(problems).toEqual([]);
  });
});
