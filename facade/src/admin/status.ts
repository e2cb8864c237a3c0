import type { Plan } from '../../../control/plan';
import type { ContextStatus, StatusResponse } from '../../../control/contracts';
import type { Flags } from '../flags/flag-source';
import type { RoutedContext } from '../routing/router';
import type { DiffStore, StoredDiff } from '../shadow/diff-store';
import type { DiffGroups } from '../shadow/diff-groups';
import type { AutoRollback } from '../rollback/auto-rollback';
import type { CdcClient } from '../../../control/stages/cdc-client';
import type { ServiceOutcomes } from '../upstreams/outcomes';
import type { UpstreamHealthChecker, UpstreamHealth } from './upstream-health';
import type { StickyUsers } from '../routing/sticky';
import { mirrorsWrites } from '../shadow/shadower';
import { describe as describeViolations, type ViolationWatch } from '../shadow/violations';

export type { ContextStatus } from '../../../control/contracts';

export const SERVICE_WINDOW_SECONDS = 300;

export interface FacadeHealth {
  status: 'ok' | 'degraded' | 'down';
  facade: 'ok';
  unleash: { state: string; lastSyncAt?: string; lastError?: string };
  upstreams: Record<string, UpstreamHealth>;
}

/** Everything the admin API, the CLI and the dashboard read about the migration's live state. */
export class StatusService {
  constructor(
    private readonly plan: Plan,
    private readonly contexts: Map<string, RoutedContext>,
    private readonly flags: Flags,
    private readonly store: DiffStore,
    private readonly outcomes: ServiceOutcomes,
    private readonly upstreamHealth: UpstreamHealthChecker,
    private readonly autoRollback?: AutoRollback,
    private readonly cdc?: CdcClient,
    private readonly extras: { sticky?: StickyUsers; violations?: ViolationWatch } = {},
  ) {}

  hasContext(name: string): boolean {
    return this.contexts.has(name);
  }

  async health(): Promise<FacadeHealth> {
    const unleash = this.flags.health();
    const upstreams = await this.upstreamHealth.check();
    // No flags at all means every context silently falls back to the monolith: serving, but not as planned.
    const degraded = unleash.state === 'none' || Object.values(upstreams).some((u) => u.status !== 'ok');
    return { status: degraded ? 'degraded' : 'ok', facade: 'ok', unleash, upstreams };
  }

  async status(): Promise<StatusResponse> {
    const [counts, pipelines] = await Promise.all([
      this.store.counts(),
      this.cdc ? this.cdc.pipelines().catch(() => undefined) : Promise.resolve(undefined),
      this.extras.violations?.poll(),
    ]);
    const pipe = (name: string) => pipelines?.find((p) => p.name === name) ?? null;
    const contexts = Object.entries(this.plan.contexts).map(([name, ctx]): ContextStatus => {
      const state = this.flags.state(name);
      const c = counts.contexts[name] ?? { compared: 0, matched: 0, diffs: 0, errors: 0, diffRate: 0 };
      const outcome = this.outcomes.window(name, SERVICE_WINDOW_SECONDS);
      const shadow = this.contexts.get(name)!.shadow;
      const guard = this.extras.violations?.of(name) ?? null;
      return {
        name,
        stage: state.stage,
        percent: state.percent,
        shadow: {
          sampleRate: state.sampleRate,
          compared: c.compared,
          matched: c.matched,
          diffs: c.diffs,
          diffRate: c.diffRate,
          errors: c.errors,
          writes: shadow.writes,
          writesMirrored: mirrorsWrites(shadow),
        },
        stickiness: this.extras.sticky?.stats(name) ?? { requests: 0, withoutUser: 0, withoutUserShare: 0, fallback: 'none' },
        writeGuard: guard,
        findings: guard && guard.violations > 0 ? [{ severity: 'critical', code: 'write_guard_violation', message: describeViolations(guard) }] : [],
        breaker: this.contexts.get(name)!.breaker.state,
        routes: ctx.routes.map((r) => r.source),
        service: { url: ctx.service.url, ...outcome, windowSeconds: SERVICE_WINDOW_SECONDS, lastFallbackAt: this.outcomes.lastFallbackAt(name) },
        lastRollback: this.autoRollback?.last.get(name) ?? null,
        pipelines: pipelines ? { forward: pipe(`${name}-forward`), reverse: pipe(`${name}-reverse`) } : null,
      };
    });
    return { contexts, unleash: this.flags.health() };
  }

  /** One context's status (the stage service's gate inputs). */
  async contextStatus(name: string): Promise<ContextStatus> {
    const found = (await this.status()).contexts.find((c) => c.name === name);
    if (!found) throw new Error(`unknown context ${JSON.stringify(name)}`);
    return found;
  }

  resetDiffs(context: string): Promise<void> {
    return this.store.reset(context);
  }

  /** Critical findings of one context (or all), for the diffs listing: they matter more than any diff. */
  async findings(context: string | undefined): Promise<(ContextStatus['findings'][number] & { context: string })[]> {
    await this.extras.violations?.poll();
    const out = [];
    for (const name of context ? [context] : Object.keys(this.plan.contexts)) {
      const guard = this.extras.violations?.of(name);
      if (guard && guard.violations > 0) out.push({ context: name, severity: 'critical' as const, code: 'write_guard_violation', message: describeViolations(guard) });
    }
    return out;
  }

  diffs(context: string | undefined, limit: number): Promise<StoredDiff[]> {
    return this.store.list({ context, limit });
  }

  diffGroups(context: string, options: { examples: number; limit: number }): Promise<DiffGroups> {
    return this.store.groups(context, options);
  }
}
