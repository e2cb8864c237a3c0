import type { Plan } from '../../control/plan';
import { CliError } from '../cli/errors';

export function contextOrFail(plan: Plan, context: string): void {
  if (!plan.contexts[context]) {
    throw new CliError(`unknown context ${JSON.stringify(context)}; the plan has: ${Object.keys(plan.contexts).join(', ')}`);
  }
}

export function parseLimit(raw: string | undefined, fallback: number, max = 500): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new CliError(`--limit must be an integer 1–${max}, got ${JSON.stringify(raw)}`);
  return n;
}
