import type { Request, RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * This process's Prometheus registry, served on `GET /metrics` by every app built with `createServiceApp`. Register
 * service-specific metrics here (`registers: [registry]`) so they are scraped with the rest.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LABELS = ['method', 'route', 'status'] as const;

const requestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by method, matched route pattern and status code.',
  labelNames: LABELS,
  registers: [registry],
});

const requestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from receiving an HTTP request to finishing its response, by method, matched route pattern and status.',
  labelNames: LABELS,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route pattern (`/api/users/:id`), never the raw URL: ids in paths would give every user its own time series.
 * Requests no route handled (404s, bad JSON rejected before routing) share one label.
 */
export function routeLabel(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (route === undefined) return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${String(route)}`;
}

/** Counts and times every request; mount first so the duration covers all other middleware. */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const stop = requestDuration.startTimer();
    res.once('finish', () => {
      const labels = { method: req.method, route: routeLabel(req), status: String(res.statusCode) };
      requestsTotal.inc(labels);
      stop(labels);
    });
    next();
  };
}

/** Prometheus text exposition of `registry`. */
export const metricsHandler: RequestHandler = async (_req, res) => {
  const body = await registry.metrics();
  res.setHeader('content-type', registry.contentType);
  res.send(body);
};
