import express, { type Router } from 'express';
import { z } from 'zod';
import { effectiveGates, type Plan } from '../../../control/plan';
import { errorBody } from '../../../lib/http/errors';
import { validate } from '../../../lib/http/validate';
import { evaluateGates } from '../../../control/gates/gates';
import { nextPosition, type StagePosition } from '../../../control/stages/stepper';
import { gateInputs } from '../../../control/gates/gate-check';
import type { StatusService } from './status';

/** A gate as it stands now; `pass` is null for a gate only checked when Advance is pressed (reconcile). */
export interface PreviewGate {
  gate: string;
  pass: boolean | null;
  detail: string;
}

export interface NextGates {
  context: string;
  from: StagePosition;
  /** The stage Advance would move to; null when retired. */
  to: StagePosition | null;
  gates: PreviewGate[];
}

const RECONCILE_DETAIL = 'checked when Advance is pressed (reconcile compares every row of both sides)';

/**
 * The gates of each context's next stage with their numbers, before anyone presses Advance. Cheap gates only: the
 * reconcile gate compares whole tables, so it is named but left to the advance itself.
 */
export async function previewGates(plan: Plan, status: StatusService, only?: string): Promise<NextGates[]> {
  const { contexts } = await status.status();
  const out: NextGates[] = [];
  for (const c of contexts) {
    if (only !== undefined && c.name !== only) continue;
    const from = { stage: c.stage, percent: c.percent };
    const to = nextPosition(plan, c.name, from) ?? null;
    const inputs = gateInputs(c.name, c, undefined, { reconcile: async () => ({ clean: false, summary: RECONCILE_DETAIL }) });
    const gates: PreviewGate[] = to ? await evaluateGates(to.stage, effectiveGates(plan, c.name), inputs) : [];
    out.push({ context: c.name, from, to, gates: gates.map((g) => (g.gate === 'reconcile.clean' ? { ...g, pass: null } : g)) });
  }
  return out;
}

const gatesQuery = z.object({ context: z.string().min(1).max(64).optional() });

/** `GET /gates[?context=]`: what Advance would check next, per context. */
export function gateRoutes(plan: Plan, status: StatusService): Router {
  const router = express.Router();
  router.get('/gates', async (req, res) => {
    const q = validate(gatesQuery, req.query, 'query');
    if (q.context !== undefined && !status.hasContext(q.context)) {
      res.status(404).json(errorBody('unknown_context', `unknown context ${JSON.stringify(q.context)}`));
      return;
    }
    res.json({ items: await previewGates(plan, status, q.context) });
  });
  return router;
}
