import express, { type Express, type Router } from 'express';
import { z } from 'zod';
import { errorBody } from '../../../lib/http/errors';
import { registry } from '../../../lib/http/metrics';
import { errorHandler, refuseOptions, requestContext } from '../../../lib/http/middleware';
import { validate } from '../../../lib/http/validate';
import type { Logger } from '../../../lib/logger';
import { adminAuth, requireAdmin, type AdminAuth } from './auth';
import type { StatusService } from './status';
import { GateRefusedError, StageError, type StageService } from '../../../control/stages/stage-service';
import { StageBusyError, type ControlStore } from '../../../control/history/control-store';
import { UnleashError } from '../../../control/flags/admin-client';
import { CdcUnavailableError } from '../../../control/stages/cdc-client';
import type { SeriesRecorder } from '../series/series';
import { seriesRoutes } from '../series/routes';
import type { Plan } from '../../../control/plan';
import { gateRoutes } from './gate-preview';

export const ADMIN_PREFIX = '/_strangler';

const diffsQuery = z.object({
  context: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const groupsQuery = z.object({
  context: z.string({ error: 'required: the context whose diffs to group' }).min(1).max(64),
  examples: z.coerce.number().int().min(1).max(20).default(3),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const historyQuery = diffsQuery;

const moveBody = z.object({ force: z.boolean().optional(), reason: z.string().max(500).optional() }).passthrough();

/**
 * The facade's own API under /_strangler: health and metrics are open (load balancers and Prometheus scrape them);
 * everything that tells about the migration needs the admin token (Bearer, or the dashboard's session cookie).
 * The dashboard page itself is at /_strangler/ and shows only a login form until then. An Express app: this is not
 * the hot path.
 */
export function createAdminApp(deps: {
  status: StatusService;
  adminToken: string;
  logger: Logger;
  stages?: StageService;
  history: Pick<ControlStore, 'list'>;
  series?: SeriesRecorder;
  /**
   * The dashboard's pages and JSON routes, given the admin auth they share (built by the server, so this app and the
   * dashboard do not import each other).
   */
  dashboard?: (auth: AdminAuth) => { pages: Router; api: Router };
  /** Enables `GET /gates` (the next stage's gates before Advance). */
  plan?: Plan;
  trustProxy?: boolean;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind one trusted proxy (TRUST_PROXY): req.secure and req.ip come from its X-Forwarded-Proto / -For (the last hop).
  app.set('trust proxy', deps.trustProxy ? 1 : false);
  app.set('etag', false);
  app.use(requestContext(deps.logger));
  app.use(refuseOptions);
  const router = express.Router();

  router.get('/health', async (_req, res) => {
    const health = await deps.status.health();
    res.status(health.status === 'down' ? 503 : 200).json(health);
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.send(await registry.metrics());
  });

  const auth = adminAuth(deps.adminToken);
  const dashboard = deps.dashboard?.(auth);
  if (dashboard) router.use(dashboard.pages);

  router.use(requireAdmin(auth));
  if (dashboard) router.use(dashboard.api);
  if (deps.series) router.use(seriesRoutes(deps.series));
  if (deps.plan) router.use(gateRoutes(deps.plan, deps.status));

  router.get('/status', async (_req, res) => {
    res.json(await deps.status.status());
  });

  router.get('/diffs', async (req, res) => {
    const q = validate(diffsQuery, req.query, 'query');
    if (q.context !== undefined && !deps.status.hasContext(q.context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(q.context)}`));
      return;
    }
    const [items, findings] = await Promise.all([deps.status.diffs(q.context, q.limit), deps.status.findings(q.context)]);
    res.json({ items, findings });
  });

  router.get('/diffs/groups', async (req, res) => {
    const q = validate(groupsQuery, req.query, 'query');
    if (!deps.status.hasContext(q.context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(q.context)}`));
      return;
    }
    res.json(await deps.status.diffGroups(q.context, q));
  });

  router.delete('/diffs', async (req, res) => {
    const context = typeof req.query.context === 'string' ? req.query.context : '';
    if (!deps.status.hasContext(context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(context)}`));
      return;
    }
    await deps.status.resetDiffs(context);
    res.json({ reset: context });
  });

  router.get('/history', async (req, res) => {
    const q = validate(historyQuery, req.query, 'query');
    if (q.context !== undefined && !deps.status.hasContext(q.context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(q.context)}`));
      return;
    }
    res.json({ items: await deps.history.list({ context: q.context, limit: q.limit }) });
  });

  const stageRoute = (action: 'advance' | 'rollback') =>
    router.post(`/contexts/:name/${action}`, express.json({ limit: '16kb' }), async (req, res) => {
      const name = String(req.params.name);
      if (!deps.status.hasContext(name)) {
        res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(name)}`));
        return;
      }
      if (!deps.stages) {
        res.status(503).json(errorBody('stages_unavailable', 'the facade has no UNLEASH_ADMIN_TOKEN: stages can only be changed with the CLI'));
        return;
      }
      const body = validate(moveBody, req.body ?? {});
      // The session cookie is the dashboard's; a Bearer token is any other caller of this API.
      const actor = auth.credential(req) === 'cookie' ? 'dashboard' : 'api';
      try {
        const options = { actor, force: action === 'advance' && body.force === true, reason: body.reason } as const;
        res.json(action === 'advance' ? await deps.stages.advance(name, options) : await deps.stages.rollback(name, options));
      } catch (err) {
        if (err instanceof GateRefusedError) res.status(409).json(errorBody('gate_failed', err.message, err.results));
        else if (err instanceof StageBusyError) res.status(409).json(errorBody('stage_busy', err.message));
        else if (err instanceof StageError) res.status(409).json(errorBody('stage_refused', err.message));
        else if (err instanceof UnleashError || err instanceof CdcUnavailableError) res.status(503).json(errorBody('upstream_unavailable', err.message));
        else throw err;
      }
    });
  stageRoute('advance');
  stageRoute('rollback');

  app.use(ADMIN_PREFIX, router);
  app.use((req, res) => {
    res.status(404).json(errorBody('not_found', `no admin route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps.logger));
  return app;
}
