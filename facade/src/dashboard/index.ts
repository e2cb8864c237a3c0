import fs from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { errorBody } from '../../../lib/http/errors';
import { PROJECT_ROOT } from '../../../lib/project';
import { clientAddress, tooManyFailures, type AdminAuth } from '../admin/auth';
import type { StatusService } from '../admin/status';
import { DASHBOARD_PATH, dashboardPage, loginPage } from './page';
import { TrafficWindow } from './traffic';

export { TrafficWindow } from './traffic';

/** No external assets and no inline code: everything the page runs comes from /_strangler/assets. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

const asset = (file: string, type: string) => [file, { type, body: fs.readFileSync(path.join(PROJECT_ROOT, 'facade', 'src', 'dashboard', 'static', file)) }] as const;
const ASSETS = new Map([
  asset('dashboard.js', 'text/javascript; charset=utf-8'),
  asset('charts.js', 'text/javascript; charset=utf-8'),
  asset('dashboard.css', 'text/css; charset=utf-8'),
]);

function pageHeaders(res: Response): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  // Not no-referrer: under it a browser sends `Origin: null` with the login form, which `sameOrigin` must refuse.
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
}

function sendPage(res: Response, status: number, html: string): void {
  pageHeaders(res);
  res.setHeader('cache-control', 'no-store');
  res.status(status).type('html').send(html);
}

/**
 * Login and logout are plain form posts (no header can be added): a browser that says where the form came from
 * must say it came from here.
 */
function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export interface DashboardDeps {
  auth: AdminAuth;
  status: StatusService;
  traffic?: TrafficWindow;
}

/**
 * The dashboard's routes under /_strangler: `pages` is open (it decides between the login form and the dashboard
 * itself) and goes before the admin check; `api` holds the JSON the page needs beyond the admin API and goes after.
 */
export function dashboardRoutes(deps: DashboardDeps): { pages: Router; api: Router } {
  // The facade passes its own, sampled on a timer; without one the first read is the baseline.
  const traffic = deps.traffic ?? new TrafficWindow();
  if (!deps.traffic) void traffic.report().catch(() => undefined);

  const pages = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });

  pages.get('/', async (req, res) => {
    if (!deps.auth.credential(req)) {
      sendPage(res, 200, loginPage());
      return;
    }
    const { contexts } = await deps.status.status();
    sendPage(res, 200, dashboardPage(contexts));
  });

  pages.post('/login', form, (req, res) => {
    if (!sameOrigin(req)) {
      sendPage(res, 403, loginPage('This login form was sent from another site.'));
      return;
    }
    if (tooManyFailures(deps.auth, req, res)) return;
    const token = (req.body as { token?: unknown } | undefined)?.token;
    if (!deps.auth.tokenMatches(token)) {
      deps.auth.failures.fail(clientAddress(req));
      sendPage(res, 401, loginPage('That admin token is not right. Try again.'));
      return;
    }
    res.setHeader('set-cookie', deps.auth.sessionCookie(req.secure));
    res.setHeader('cache-control', 'no-store');
    res.redirect(303, DASHBOARD_PATH);
  });

  pages.post('/logout', (req, res) => {
    if (!sameOrigin(req)) {
      res.status(403).json(errorBody('cross_origin', 'logout must come from the dashboard itself'));
      return;
    }
    deps.auth.revoke(req);
    res.setHeader('set-cookie', deps.auth.clearCookie(req.secure));
    res.setHeader('cache-control', 'no-store');
    res.redirect(303, DASHBOARD_PATH);
  });

  pages.get('/assets/:file', (req, res) => {
    const file = ASSETS.get(String(req.params.file));
    if (!file) {
      res.status(404).json(errorBody('not_found', `no dashboard asset ${JSON.stringify(String(req.params.file))}`));
      return;
    }
    pageHeaders(res);
    res.setHeader('cache-control', 'no-cache');
    res.type(file.type).send(file.body);
  });

  const api = express.Router();
  api.get('/traffic', async (_req, res) => {
    res.json(await traffic.report());
  });

  return { pages, api };
}
