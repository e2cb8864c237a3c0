import type http from 'node:http';
import path from 'node:path';
import { listen, type RunningServer } from '../../lib/http/server';
import type { Logger } from '../../lib/logger';
import { loadPlan, type Plan } from '../../control/plan';
import { PROJECT_ROOT } from '../../lib/project';
import { ADMIN_PREFIX, createAdminApp } from './admin/admin-app';
import { StatusService, type ContextStatus } from './admin/status';
import { HttpCdcClient } from '../../control/stages/cdc-client';
import { PgControlStore } from '../../control/history/control-store';
import { FlagChangeRecorder } from '../../control/history/flag-watch';
import { StageService } from '../../control/stages/stage-service';
import { UpstreamHealthChecker } from './admin/upstream-health';
import type { FacadeConfig } from './config';
import { NoFlags, UnleashFlags, type Flags } from './flags/flag-source';
import { recordBreaker, recordStage } from './metrics/metrics';
import { Forwarder } from './routing/forwarder';
import { upstream } from './upstreams/upstream';
import { FacadeRouter, type RoutedContext } from './routing/router';
import { StickyUsers } from './routing/sticky';
import { ViolationWatch } from './shadow/violations';
import { DiffStore } from './shadow/diff-store';
import { Shadower, shadowContext } from './shadow/shadower';
import { UpstreamBreaker } from './upstreams/breaker';
import { AutoRollback } from './rollback/auto-rollback';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { ServiceOutcomes } from './upstreams/outcomes';
import { dashboardRoutes, TrafficWindow } from './dashboard';
import { SeriesRecorder } from './series/series';
import { requestTotals, serviceLatency } from './series/registry-totals';

/** How long a starting facade waits for flags from Unleash when it has no backup and Unleash neither answers nor fails. */
const FLAGS_READY_TIMEOUT_MS = 10_000;

export interface Facade {
  server: RunningServer;
  flags: Flags;
  status: StatusService;
  shadower: Shadower;
  outcomes: ServiceOutcomes;
  autoRollback?: AutoRollback;
  /** Present when the facade knows the CDC worker (STRANGLER_CDC_URL). */
  violations?: ViolationWatch;
  series: SeriesRecorder;
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

  const cdc = config.STRANGLER_CDC_URL ? new HttpCdcClient(config.STRANGLER_CDC_URL, config.STRANGLER_ADMIN_TOKEN) : undefined;
  const violations = cdc ? new ViolationWatch(cdc, contexts, logger, config.WRITE_GUARD_POLL_MS) : undefined;
  const flags: Flags = config.UNLEASH_URL
    ? new UnleashFlags(Object.keys(plan.contexts), {
        url: config.UNLEASH_URL,
        clientToken: config.UNLEASH_CLIENT_TOKEN,
        refreshMs: config.UNLEASH_REFRESH_MS,
        backupDir: config.UNLEASH_BACKUP_DIR ?? path.join(PROJECT_ROOT, '.strangler', 'facade'),
        logger,
      })
    : new NoFlags();
  flags.on('changed', () => {
    for (const name of contexts.keys()) {
      const s = flags.state(name);
      recordStage(name, s.stage, s.percent);
      violations?.stageChanged(name, s.stage);
    }
  });

  const store = await DiffStore.open(config.FACADE_DATABASE_URL, logger);
  const control = await PgControlStore.open(config.FACADE_DATABASE_URL);
  const forwarder = new Forwarder(config.UPSTREAM_TIMEOUT_MS);
  const shadower = new Shadower(monolith, store, logger, { concurrency: config.SHADOW_CONCURRENCY, timeoutMs: config.SHADOW_TIMEOUT_MS, readDelayMs: config.SHADOW_READ_DELAY_MS, internalSecret: config.STRANGLER_INTERNAL_SECRET });
  const sticky = new StickyUsers(plan.stickiness, { jwtSecret: config.JWT_SECRET, logger });
  const router = new FacadeRouter(plan, contexts, monolith, flags, forwarder, shadower, outcomes, logger, sticky, config.TRUST_PROXY);
  const health = new UpstreamHealthChecker([monolith, ...[...contexts.values()].map((c) => c.service)]);
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
  violations?.start();
  const status = new StatusService(plan, contexts, flags, store, outcomes, health, autoRollback, cdc, { sticky, violations });
  const flagChanges = new FlagChangeRecorder(Object.keys(plan.contexts), flags, control, logger);
  flagChanges.start();
  const series = new SeriesRecorder(
    {
      contexts: [...contexts.keys()],
      stage: (name) => {
        const s = flags.state(name);
        return { stage: s.stage, percent: s.percent };
      },
      requests: requestTotals,
      latency: serviceLatency,
      shadow: async () => (await store.counts()).contexts,
      service: (name) => outcomes.total(name),
      fallbacks: (name) => outcomes.fallbackCount(name),
      pipelines: cdc ? () => cdc.pipelines() : undefined,
    },
    config.SERIES_RESOLUTION_SECONDS,
    config.SERIES_RETENTION_SECONDS,
  );
  const traffic = new TrafficWindow(undefined, undefined, undefined, (name) => {
    const s = flags.state(name);
    return `${s.stage}:${s.percent}`;
  });
  const admin = createAdminApp({ status, adminToken: config.STRANGLER_ADMIN_TOKEN, logger, stages, history: control, series, plan, trustProxy: config.TRUST_PROXY, dashboard: (auth) => dashboardRoutes({ auth, status, traffic }) });

  await flags.ready(FLAGS_READY_TIMEOUT_MS);
  // Baselines once the flags are known: the first point then already carries the right stage.
  await series.start();
  traffic.start();
  const handler: http.RequestListener = (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(ADMIN_PREFIX) && (url.length === ADMIN_PREFIX.length || url[ADMIN_PREFIX.length] === '/' || url[ADMIN_PREFIX.length] === '?')) {
      admin(req, res);
      return;
    }
    router.handle(req, res);
  };
  const server = await listen(handler, config.PORT, undefined, { reusePort: config.FACADE_PROCESSES > 1 });
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
    violations,
    series,
    stages,
    flagChanges,
    async stop() {
      autoRollback?.stop();
      await flagChanges.stop();
      violations?.stop();
      sticky.close();
      series.stop();
      traffic.stop();
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
