import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseConfig } from '../config';
import { PROJECT_ROOT } from '../project';
import { planSchema, type AutoRollback, type Gates, type Plan, type PlanContext } from './schema';

export const DEFAULT_PLAN_PATH = path.join(PROJECT_ROOT, 'migrations', 'shop.plan.yaml');

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * `${VAR}` and `${VAR:-default}` in string values come from the environment, so one plan serves the local stack
 * and docker-compose (where services have other host names).
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new PlanError(`plan uses \${${name}} but it is not set`);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

/** Parses and validates a plan once; every error names the field (e.g. `contexts.users.routes.0`). */
export function parsePlan(text: string, env: NodeJS.ProcessEnv = process.env, source = 'plan'): Plan {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new PlanError(`${source} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  try {
    return parseConfig(planSchema, interpolate(raw, env), source);
  } catch (err) {
    throw new PlanError((err as Error).message);
  }
}

/** Loads `STRANGLER_PLAN` or the demo shop plan. */
export function loadPlan(file = process.env.STRANGLER_PLAN || DEFAULT_PLAN_PATH, env: NodeJS.ProcessEnv = process.env): Plan {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new PlanError(`cannot read plan ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parsePlan(text, env, `plan ${path.basename(file)}`);
}

export function contextNames(plan: Plan): string[] {
  return Object.keys(plan.contexts);
}

export function getContext(plan: Plan, name: string): PlanContext {
  const ctx = plan.contexts[name];
  if (!ctx) throw new PlanError(`unknown context ${JSON.stringify(name)}; the plan has: ${contextNames(plan).join(', ')}`);
  return ctx;
}

/** The plan's defaults with the context's overrides applied. */
export function effectiveGates(plan: Plan, name: string): Gates {
  const ctx = getContext(plan, name);
  const d = plan.defaults.gates;
  const o = ctx.gates ?? {};
  return {
    shadow: { ...d.shadow, ...o.shadow },
    canary: { ...d.canary, ...o.canary },
    cutover: { ...d.cutover, ...o.cutover },
    retired: { ...d.retired, ...o.retired },
  };
}

export function effectiveAutoRollback(plan: Plan, name: string): AutoRollback {
  return { ...plan.defaults.autoRollback, ...(getContext(plan, name).autoRollback ?? {}) };
}

export function canarySteps(plan: Plan, name: string): number[] {
  return getContext(plan, name).canarySteps ?? plan.defaults.canarySteps;
}
