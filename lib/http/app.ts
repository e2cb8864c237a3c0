import express, { type Express, type Router } from 'express';
import type { Logger } from '../logger';
import { errorBody } from './errors';
import { requireInternalAuth } from './internal-auth';
import { httpMetrics, metricsHandler } from './metrics';
import { errorHandler, jsonBody, notFoundHandler, refuseOptions, requestContext } from './middleware';
import type { Workshop } from './workshop';

export interface ServiceAppOptions {
  logger: Logger;
  /** Feature routers, mounted in order after the common middleware. */
  routers: Router[];
  /** Answers whether the service can do its job (usually: the database answers). */
  health: () => Promise<void>;
  /** Extra middleware that must run before the body parser (e.g. a proxy that streams bodies through). */
  before?: express.RequestHandler[];
  /** STRANGLER_INTERNAL_SECRET: verifies dry runs and `/internal/*` calls (refused when unset). */
  internalSecret?: string;
  /** Runs before every route, metrics included (e.g. `controlApi`: an API that needs a token). */
  guard?: express.RequestHandler;
  /** Run-time faults and planted bugs (`./workshop.ts`); inert outside workshop mode. */
  workshop?: Workshop;
}

/**
 * The same HTTP shell for the monolith and every service: request ids, JSON bodies up to 1 MB, `GET /health`,
 * `GET /metrics` (Prometheus), JSON errors for everything including bad input, 404 for unknown routes.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(httpMetrics());
  if (options.guard) app.use(options.guard);
  // Ahead of the request log: a scrape every few seconds would drown out the lines people read.
  app.get('/metrics', metricsHandler);
  app.use(requestContext(options.logger));
  app.use(refuseOptions);
  app.use(requireInternalAuth(options.internalSecret));
  const workshop = options.workshop;
  if (workshop) app.use(workshop.routes(), workshop.inject());
  for (const mw of options.before ?? []) app.use(mw);
  app.get('/health', async (req, res) => {
    // Active workshop switches travel with the health answer: the facade's dashboard shows them.
    const notices = workshop?.notices() ?? [];
    const extra = notices.length ? { notices } : {};
    if (workshop?.unhealthy()) {
      res.status(503).json({ status: 'unavailable', ...extra, ...errorBody('workshop_fault', notices[0] ?? 'workshop fault') });
      return;
    }
    try {
      await options.health();
      res.json({ status: 'ok', ...extra });
    } catch (err) {
      req.log.warn({ err }, 'health check failed');
      res.status(503).json({ status: 'unavailable', ...extra, ...errorBody('unhealthy', String((err as Error)?.message ?? err)) });
    }
  });
  app.use(jsonBody());
  for (const router of options.routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}
