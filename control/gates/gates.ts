import type { GateResult, PipelineState, PipelineStatus } from '../contracts';
import type { Gates, Stage } from '../plan';

export type { GateResult } from '../contracts';

export interface PipelineHealth {
  name: string;
  state: PipelineState | 'absent';
  lagMs: number | null;
}

/** A pipeline's health for the gates, from the worker's list (absent when the worker does not run it). */
export function pipelineHealth(pipelines: PipelineStatus[] | undefined, name: string): PipelineHealth {
  const p = pipelines?.find((x) => x.name === name);
  return p ? { name, state: p.state, lagMs: p.lagMs } : { name, state: 'absent', lagMs: null };
}

/** What gates look at, gathered from the facade (traffic, diffs), the CDC worker (pipelines) and reconcile. */
export interface GateInputs {
  shadow: { compared: number; diffs: number; errors: number; diffRate: number };
  service: { requests: number; failed: number; errorRate: number };
  /** Seconds since the facade last served this context from the monolith as a fallback (null: never). */
  secondsSinceFallback: number | null;
  forward: PipelineHealth;
  reverse: PipelineHealth;
  /** Computed lazily: reconcile is the most expensive gate. */
  reconcile?: () => Promise<{ clean: boolean; summary: string }>;
  /** Service commits the CDC worker's write guard refused (dry-run or reference-table violations). */
  violations?: () => Promise<{ count: number; detail: string }>;
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

function pipelineGate(gate: string, p: PipelineHealth, maxLagMs: number): GateResult[] {
  const streaming = p.state === 'streaming';
  return [
    { gate: `${gate}.streaming`, pass: streaming, detail: `pipeline ${p.name} is ${p.state}` },
    {
      gate: `${gate}.lag`,
      pass: streaming && p.lagMs !== null && p.lagMs <= maxLagMs,
      detail: p.lagMs === null ? `pipeline ${p.name} lag unknown (max ${maxLagMs} ms)` : `pipeline ${p.name} lag ${p.lagMs} ms (max ${maxLagMs} ms)`,
    },
  ];
}

/**
 * The gates that guard entering `target` (defaults in the plan, overridable per context). Each result names the
 * gate and carries the numbers, so a refusal tells the operator exactly what to fix.
 */
export async function evaluateGates(target: Stage, gates: Gates, inputs: GateInputs): Promise<GateResult[]> {
  switch (target) {
    case 'monolith':
      return [];
    case 'shadow':
      return pipelineGate('forward', inputs.forward, gates.shadow.maxLagMs);
    case 'canary': {
      const g = gates.canary;
      const s = inputs.shadow;
      const results: GateResult[] = [
        { gate: 'shadow.compared', pass: s.compared >= g.minCompared, detail: `${s.compared} requests compared (min ${g.minCompared})` },
        { gate: 'shadow.diffRate', pass: s.compared > 0 && s.diffRate <= g.maxDiffRate, detail: `diff rate ${pct(s.diffRate)} (${s.diffs + s.errors} of ${s.compared}; max ${pct(g.maxDiffRate)})` },
      ];
      if (inputs.violations) {
        const v = await inputs.violations();
        results.push({ gate: 'writes.violations', pass: v.count === 0, detail: v.detail });
      }
      if (g.reconcileClean) {
        if (!inputs.reconcile) results.push({ gate: 'reconcile.clean', pass: false, detail: 'reconcile could not run (no CDC worker)' });
        else {
          const r = await inputs.reconcile();
          results.push({ gate: 'reconcile.clean', pass: r.clean, detail: r.summary });
        }
      }
      return results;
    }
    case 'cutover': {
      const g = gates.cutover;
      const s = inputs.service;
      return [
        { gate: 'service.requests', pass: s.requests >= g.minRequests, detail: `${s.requests} requests served by the service (min ${g.minRequests})` },
        { gate: 'service.errorRate', pass: s.requests > 0 && s.errorRate <= g.maxErrorRate, detail: `service error rate ${pct(s.errorRate)} (${s.failed} of ${s.requests}; max ${pct(g.maxErrorRate)})` },
        ...pipelineGate('reverse', inputs.reverse, g.maxLagMs),
      ];
    }
    case 'retired': {
      const need = gates.retired.noFallbackForSeconds;
      const since = inputs.secondsSinceFallback;
      return [
        {
          gate: 'fallback.quiet',
          pass: since === null || since >= need,
          detail: since === null ? `no fallback to the monolith since the facade started (need ${need} s)` : `last fallback ${since} s ago (need ${need} s)`,
        },
      ];
    }
  }
}
