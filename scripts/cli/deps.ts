import path from 'node:path';
import { loadPlan, type Plan } from '../../lib/plan';
import { HttpCdcClient, type PipelineStatus } from '../../lib/stages/cdc-client';
import type { StageDeps } from '../../lib/stages/controller';
import type { GateInputs, PipelineHealth } from '../../lib/stages/gates';
import { UnleashAdminClient } from '../../lib/unleash/admin-client';
import { CliError } from './errors';
import { findStack, requestJson, type StackConnection } from './stack-client';
import { readStackState } from '../stack/home';

export interface FacadeContextStatus {
  name: string;
  stage: string;
  percent: number;
  shadow: { sampleRate: number; compared: number; matched: number; diffs: number; diffRate: number; errors: number };
  breaker: string;
  routes: string[];
  service: { url: string; requests: number; failed: number; errorRate: number; lastFallbackAt: string | null };
  lastRollback: { at: string; reason: string; from: { stage: string; percent: number }; to: { stage: string; percent: number } } | null;
}

export interface CliDeps extends StageDeps {
  conn: StackConnection;
  facadeStatus(): Promise<FacadeContextStatus[]>;
  pipelines(): Promise<PipelineStatus[] | undefined>;
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

function health(pipelines: PipelineStatus[] | undefined, name: string): PipelineHealth {
  const p = pipelines?.find((x) => x.name === name);
  return p ? { name, state: p.state, lagMs: p.lagMs } : { name, state: 'absent', lagMs: null };
}

/** Wires the CLI to the running stack: plan, Unleash admin API, facade admin API, CDC worker. */
export function cliDeps(): CliDeps {
  const conn = findStack();
  const plan = loadPlanOrFail();
  const unleash = new UnleashAdminClient({ url: conn.unleashUrl, adminToken: conn.unleashAdminToken });
  const cdc = conn.cdcUrl ? new HttpCdcClient(conn.cdcUrl) : undefined;
  const facadeStatus = async () =>
    (await requestJson<{ contexts: FacadeContextStatus[] }>(`${conn.facadeUrl}/_strangler/status`, { token: conn.adminToken, what: 'facade' })).contexts;
  const pipelines = async () => (cdc ? cdc.pipelines().catch(() => undefined) : undefined);
  return {
    conn,
    plan,
    unleash,
    cdc,
    facadeStatus,
    pipelines,
    async inputs(context: string): Promise<GateInputs> {
      const [statuses, pipes] = await Promise.all([facadeStatus(), pipelines()]);
      const s = statuses.find((c) => c.name === context);
      if (!s) throw new CliError(`the facade does not know context ${context}: is it running with the same plan?`);
      const fallbackAt = s.service.lastFallbackAt ? Date.parse(s.service.lastFallbackAt) : null;
      return {
        shadow: s.shadow,
        service: s.service,
        secondsSinceFallback: fallbackAt === null ? null : Math.floor((Date.now() - fallbackAt) / 1000),
        forward: health(pipes, `${context}-forward`),
        reverse: health(pipes, `${context}-reverse`),
        reconcile: cdc ? () => cdc.reconcile(context) : undefined,
      };
    },
  };
}
