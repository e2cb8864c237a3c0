import type http from 'node:http';
import path from 'node:path';
import { listen, type RunningServer } from '../../lib/http/server';
import type { Logger } from '../../lib/logger';
import { loadPlan, type Plan } from '../../lib/plan';
import { ADMIN_PREFIX, createAdminApp } from './admin/admin-app';
import { StatusService, type ContextStatus } from './admin/status';
import { HttpCdcClient } from '../../lib/stages/cdc-client';
import { PgControlStore } from '../../control/history/control-store';
import { FlagChangeRecorder } from '../../control/history/flag-watch';
import { StageService } from '../../control/stages/stage-service';
import { UpstreamHealthChecker } from './admin/upstream-health';
import type { FacadeConfig } from './config';
import { NoFlags, UnleashFlags, type Flags } from './flags/flag-source';
import { recordBreaker, recordStage } from './metrics';
import { Forwarder, upstream } from './routing/forwarder';
import { FacadeRouter, type RoutedContext } from './routing/router';
import { DiffStore } from './shadow/diff-store';
import { Shadower, shadowContext } from './shadow/shadower';
import { UpstreamBreaker } from './upstreams/breaker';
import { AutoRollback } from './rollback/auto-rollback';
import { UnleashAdminClient } from '../../lib/unleash/admin-client';
import { ServiceOutcomes } from './upstreams/outcomes';

export interface Facade {
  server: RunningServer;
  flags: Flags;
  status: StatusService;
  shadower: Shadower;
  outcomes: ServiceOutcomes;
  autoRollback?: AutoRollback;
  /** Moves stages (dashboard, admin API, automatic rollback); absent without UNLEASH_ADMIN_TOKEN. */
  stages?: StageService;
  /** Records stage changes made directly in Unleash. */
  flagChanges: FlagChangeRecorder;
  stop(): Promise<void>;
}

/**
 * Builds the facade from a validated config and plan: one plain Node HTTP server whose handler sends
 * `/_strangler/*` to the admin Express app and everything else down the proxy hot path.
 */
export async function startFacade(config: FacadeConfig, logger: Logger, plan: Plan = loadPlan(config.STRANGLER_PLAN)): Promise<Facade> {
  const monolith = upstream('monolith', plan.monolith.url);
  const outcomes = new ServiceOutcomes();
  const contexts = new Map<string, RoutedContext>();
  for (const [name, ctx] of Object.entries(plan.contexts)) {
    const service = upstream(name, ctx.service.url);
    const breaker = new UpstreamBreaker(
      name,
      { resetMs: config.BREAKER_RESET_MS, errorPercent: config.BREAKER_ERROR_PERCENT, volume: config.BREAKER_VOLUME },
      (n, state) => {
        recordBreaker(n, state);
        logger.warn({ context: n, breaker: state }, 'circuit breaker changed state');
      },
    );
    contexts.set(name, { name, service, breaker, shadow: shadowContext(name, service, ctx.shadow, ctx.routes.map((r) => r.source)) });
  }

  const flags: Flags = config.UNLEASH_URL
    ? new UnleashFlags(Object.keys(plan.contexts), {
        url: config.UNLEASH_URL,
        clientToken: config.UNLEASH_CLIENT_TOKEN,
        refreshMs: config.UNLEASH_REFRESH_MS,
        backupDir: config.UNLEASH_BACKUP_DIR ?? path.resolve(__dirname, '..', '..', '.strangler', 'facade'),
        logger,
      })
    : new NoFlags();
  flags.on('changed', () => {
    for (const name of contexts.keys()) {
      const s = flags.state(name);
      recordStage(name, s.stage, s.percent);
    }
  });

  const store = await DiffStore.open(config.FACADE_DATABASE_URL, logger);
  const control = await PgControlStore.open(config.FACADE_DATABASE_URL);
  const forwarder = new Forwarder(config.UPSTREAM_TIMEOUT_MS);
  const shadower = new Shadower(monolith, store, logger, { concurrency: config.SHADOW_CONCURRENCY, timeoutMs: config.SHADOW_TIMEOUT_MS, readDelayMs: config.SHADOW_READ_DELAY_MS });
  const router = new FacadeRouter(plan, contexts, monolith, flags, forwarder, shadower, outcomes, logger, config.JWT_SECRET);
  const health = new UpstreamHealthChecker([monolith, ...[...contexts.values()].map((c) => c.service)]);
  const cdc = config.STRANGLER_CDC_URL ? new HttpCdcClient(config.STRANGLER_CDC_URL) : undefined;
  // The status service needs the automatic rollback (its last record), which needs the stage service, which needs
  // the status (its gate inputs): the stage service asks the status lazily, once everything is built.
  const stages: StageService | undefined =
    config.UNLEASH_URL && config.UNLEASH_ADMIN_TOKEN
      ? new StageService({
          plan,
          unleash: new UnleashAdminClient({ url: config.UNLEASH_URL, adminToken: config.UNLEASH_ADMIN_TOKEN }),
          store: control,
          cdc,
          contextStatus: (context): Promise<ContextStatus> => status.contextStatus(context),
        })
      : undefined;
  const autoRollback = stages ? new AutoRollback(plan, flags, outcomes, stages, logger) : undefined;
  autoRollback?.start();
  const status = new StatusService(plan, contexts, flags, store, outcomes, health, autoRollback, cdc);
  const flagChanges = new FlagChangeRecorder(Object.keys(plan.contexts), flags, control, logger);
  flagChanges.start();
  const admin = createAdminApp({ status, adminToken: config.STRANGLER_ADMIN_TOKEN, logger, stages, history: control });

  const handler: http.RequestListener = (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(ADMIN_PREFIX) && (url.length === ADMIN_PREFIX.length || url[ADMIN_PREFIX.length] === '/' || url[ADMIN_PREFIX.length] === '?')) {
      admin(req, res);
      return;
    }
    router.handle(req, res);
  };
  const server = await listen(handler, config.PORT);
  // Bounded header size and time: a slow or huge header must not hold a socket forever.
  server.server.headersTimeout = 20_000;
  server.server.requestTimeout = Math.max(30_000, config.UPSTREAM_TIMEOUT_MS * 2);

  return {
    server,
    flags,
    status,
    shadower,
    outcomes,
    autoRollback,
    stages,
    flagChanges,
    async stop() {
      autoRollback?.stop();
      await flagChanges.stop();
      await server.close();
      forwarder.close();
      for (const c of contexts.values()) {
        c.breaker.shutdown();
        c.service.agent.destroy();
      }
      monolith.agent.destroy();
      await flags.close();
      await store.close();
      await control.close();
    },
  };
}
