import { violationsOf, type CdcClient, type PipelineStatus } from '../../../lib/stages/cdc-client';
import type { GateInputs, PipelineHealth } from '../../../lib/stages/gates';
import type { ContextStatus } from './status';

/** The gates' numbers for one context, from its live status (the very numbers the dashboard shows). */
export function gateInputs(s: ContextStatus, cdc: CdcClient | undefined, now = Date.now()): GateInputs {
  const pipe = (direction: 'forward' | 'reverse'): PipelineHealth => {
    const p: PipelineStatus | null | undefined = s.pipelines?.[direction];
    return p ? { name: p.name, state: p.state, lagMs: p.lagMs } : { name: `${s.name}-${direction}`, state: 'absent', lagMs: null };
  };
  const fallbackAt = s.service.lastFallbackAt ? Date.parse(s.service.lastFallbackAt) : null;
  return {
    shadow: s.shadow,
    service: s.service,
    secondsSinceFallback: fallbackAt === null ? null : Math.floor((now - fallbackAt) / 1000),
    forward: pipe('forward'),
    reverse: pipe('reverse'),
    reconcile: cdc ? () => cdc.reconcile(s.name) : undefined,
    violations: cdc ? () => violationsOf(cdc, s.name) : undefined,
  };
}
