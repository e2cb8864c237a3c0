import type { ContextStatus, PipelineStatus, StatusResponse } from '../../control/contracts';
import { PgControlStore } from '../../control/history/control-store';
import { StageService } from '../../control/stages/stage-service';
import path from 'node:path';
import { loadPlan, type Plan } from '../../control/plan';
import { HttpCdcClient } from '../../control/stages/cdc-client';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { CliError } from './errors';
import { findStack, requestJson, type StackConnection } from './stack-client';
import { readStackState } from '../stack/home';

export interface CliDeps {
  conn: StackConnection;
  plan: Plan;
  unleash: UnleashAdminClient;
  cdc?: HttpCdcClient;
  facadeStatus(): Promise<ContextStatus[]>;
  pipelines(): Promise<PipelineStatus[] | undefined>;
  /**
   * The stage service, over the toolkit's database (stage lock and history); `close()` lets go of it. Only the
   * commands that move stages open it.
   */
  stages(): Promise<StageService>;
  close(): Promise<void>;
}

/** `--plan`, else `STRANGLER_PLAN`, else the plan the running stack was started with, else the shop's. */
export function planFileInUse(explicit?: string): string | undefined {
  return explicit || process.env.STRANGLER_PLAN || (readStackState()?.plan as string | undefined) || undefined;
}

export function loadPlanOrFail(explicit?: string): Plan {
  try {
    // The running stack's plan values first, the caller's environment over them.
    const state = readStackState();
    const sameFile = !explicit || path.resolve(explicit) === state?.plan;
    return loadPlan(planFileInUse(explicit), { ...(sameFile ? state?.planEnv : {}), ...process.env });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Wires the CLI to the running stack: plan, Unleash admin API, facade admin API, CDC worker, toolkit database. */
export function cliDeps(): CliDeps {
  const conn = findStack();
  const plan = loadPlanOrFail();
  const unleash = new UnleashAdminClient({ url: conn.unleashUrl, adminToken: conn.unleashAdminToken });
  const cdc = conn.cdcUrl ? new HttpCdcClient(conn.cdcUrl, conn.adminToken) : undefined;
  const facadeStatus = async () => (await requestJson<StatusResponse>(`${conn.facadeUrl}/_strangler/status`, { token: conn.adminToken, what: 'facade' })).contexts;
  let store: Promise<PgControlStore> | undefined;
  let service: StageService | undefined;
  return {
    conn,
    plan,
    unleash,
    cdc,
    facadeStatus,
    pipelines: async () => (cdc ? cdc.pipelines().catch(() => undefined) : undefined),
    async stages() {
      if (service) return service;
      if (!conn.facadeDatabaseUrl) {
        throw new CliError('the toolkit\'s database is unknown: set STRANGLER_FACADE_DATABASE_URL to the facade\'s FACADE_DATABASE_URL (`strangler up` writes it to .strangler/stack.json)');
      }
      store ??= PgControlStore.open(conn.facadeDatabaseUrl);
      const opened = await store.catch((err: Error) => {
        throw new CliError(err.message);
      });
      service = new StageService({
        plan,
        unleash,
        cdc,
        store: opened,
        async contextStatus(context) {
          const s = (await facadeStatus()).find((c) => c.name === context);
          if (!s) throw new CliError(`the facade does not know context ${context}: is it running with the same plan?`);
          return s;
        },
      });
      return service;
    },
    async close() {
      if (store) await (await store.catch(() => undefined))?.close();
    },
  };
}
