import { Router, type Express } from 'express';
import { z } from 'zod';
import { createServiceApp } from '../../../lib/http/app';
import { controlApi } from '../../../lib/http/control-api';
import { HttpError } from '../../../lib/http/errors';
import { registry as metricsRegistry } from '../../../lib/http/metrics';
import { validate } from '../../../lib/http/validate';
import { STAGES } from '../../../control/plan';
import type { Logger } from '../../../lib/logger';
import type { PipelineRegistry } from './registry';
import { CatalogError, MappingConfigError } from '../mapping';
import { SourceSetupError } from '../pg/errors';
import { CdcWorker, WorkerError } from './worker';
import { registerPipelineMetrics } from './metrics';

const syncBody = z.object({
  direction: z.enum(['forward', 'reverse']),
  timeoutMs: z.number().int().min(1).max(300_000).default(10_000),
});

const extractBody = z.object({ force: z.boolean().default(false) });

const reconcileBody = z.object({ limit: z.number().int().min(0).max(10_000).default(20) });

const stageBody = z.object({ stage: z.enum(STAGES), percent: z.number().int().min(0).max(100) });

const conflictsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1_000).default(50) });

const guardBody = z.object({ armed: z.boolean(), graceMs: z.number().int().min(0).max(600_000).default(0) });

/** The error's message and every cause under it, with Postgres' hint: what an operator needs to act, in one line. */
export function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    const hint = (e as { hint?: unknown }).hint;
    if (typeof hint === 'string' && hint) parts.push(`hint: ${hint}`);
  }
  return parts.join(': ') || 'unknown error';
}

/**
 * Every failure reaches the caller with its cause: a database unfit for capture (wal_level, privileges, a missing
 * table) is the caller's to fix (409); anything else is the worker's failure, still with the cause (500).
 */
const toHttp = (err: unknown): never => {
  if (err instanceof WorkerError) throw new HttpError(err.status, err.status === 404 ? 'not_found' : 'pipeline_refused', err.message);
  if (err instanceof SourceSetupError || err instanceof CatalogError || err instanceof MappingConfigError) {
    throw new HttpError(409, 'pipeline_refused', describeCause(err));
  }
  throw new HttpError(500, 'pipeline_failed', describeCause(err));
};

/**
 * The worker's REST API, in the spirit of Kafka Connect's (`GET /pipelines` ≈ `GET /connectors`): what the CLI,
 * the facade's status and the dashboard read, and what stage changes call. Every route but `/health` needs the admin
 * token and a local (or configured) `Host`; POSTs need `application/json` (lib/http/control-api).
 */
export function createWorkerApp(
  worker: CdcWorker,
  registry: PipelineRegistry,
  logger: Logger,
  access: { adminToken: string; allowedHosts?: string[] },
): Express {
  const router = Router();
  router.get('/pipelines', async (_req, res) => {
    res.json(await worker.cluster());
  });
  router.get('/pipelines/:name', async (req, res) => {
    res.json(await worker.describe(String(req.params.name)).catch(toHttp));
  });
  router.post('/contexts/:context/extract', async (req, res) => {
    const body = validate(extractBody, req.body ?? {});
    res.json(await worker.extract(String(req.params.context), { force: body.force }).catch(toHttp));
  });
  router.post('/contexts/:context/reverse', async (req, res) => {
    res.json(await worker.startReverse(String(req.params.context)).catch(toHttp));
  });
  router.post('/contexts/:context/sync', async (req, res) => {
    const body = validate(syncBody, req.body ?? {});
    res.json(await worker.sync(String(req.params.context), body.direction, body.timeoutMs).catch(toHttp));
  });
  router.post('/contexts/:context/reconcile', async (req, res) => {
    const body = validate(reconcileBody, req.body ?? {});
    res.json(await worker.reconcile(String(req.params.context), { limit: body.limit }).catch(toHttp));
  });
  router.post('/contexts/:context/stage', async (req, res) => {
    const body = validate(stageBody, req.body ?? {});
    res.json(await worker.setStage(String(req.params.context), body.stage, body.percent).catch(toHttp));
  });
  router.get('/contexts/:context/conflicts', async (req, res) => {
    const query = validate(conflictsQuery, req.query ?? {});
    res.json({ items: await worker.conflicts(String(req.params.context), query.limit).catch(toHttp) });
  });
  router.get('/guards', async (_req, res) => {
    res.json({ items: await worker.guards() });
  });
  router.post('/contexts/:context/guard', async (req, res) => {
    const body = validate(guardBody, req.body ?? {});
    await worker.guard(String(req.params.context), body.armed, body.graceMs).catch(toHttp);
    res.json({ context: String(req.params.context), armed: body.armed });
  });
  router.post('/contexts/:context/guard/reset', async (req, res) => {
    await worker.resetGuard(String(req.params.context)).catch(toHttp);
    res.json({ context: String(req.params.context), violations: 0 });
  });
  registerPipelineMetrics(metricsRegistry, () => worker.localViews());
  return createServiceApp({
    logger,
    routers: [router],
    health: () => registry.ping(),
    guard: controlApi({ token: access.adminToken, allowedHosts: access.allowedHosts, openPaths: ['/health'], tokenlessPaths: ['/metrics'] }),
  });
}
