import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseConfig } from '../../lib/config';
import { PROJECT_ROOT } from '../../lib/project';
import { planSchema, type AutoRollback, type Gates, type Plan, type PlanContext } from './schema';

export const DEFAULT_PLAN_PATH = path.join(PROJECT_ROOT, 'migrations', 'shop.plan.yaml');

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${VAR}` and `${VAR:-default}` come from the environment, so one plan serves the local stack and docker-compose
 * (where services have other host names). They may stand anywhere, also inside a YAML flow map `{ url: ${X} }`
 * where `{`, `}` and `:` would otherwise be YAML syntax: each is swapped for a plain-word token before parsing and
 * resolved afterwards, so a value never changes the document's structure.
 */
function protectVariables(text: string): { text: string; variables: Map<string, { name: string; fallback?: string }> } {
  const variables = new Map<string, { name: string; fallback?: string }>();
  const nonce = `strangler${Math.random().toString(36).slice(2, 10)}`;
  const out = text.replace(VARIABLE, (_m, name: string, fallback?: string) => {
    const token = `${nonce}v${variables.size}x`;
    variables.set(token, { name, fallback });
    return token;
  });
  return { text: out, variables };
}

function resolver(variables: Map<string, { name: string; fallback?: string }>, env: NodeJS.ProcessEnv, problems: string[]) {
  if (variables.size === 0) return (s: string) => s;
  const tokens = new RegExp([...variables.keys()].join('|'), 'g');
  return (s: string) =>
    s.replace(tokens, (token) => {
      const { name, fallback } = variables.get(token)!;
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      problems.push(`plan uses \${${name}} but it is not set`);
      return '';
    });
}

function interpolate(value: unknown, resolve: (s: string) => string): unknown {
  if (typeof value === 'string') return resolve(value);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, resolve));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [resolve(k), interpolate(v, resolve)]));
  return value;
}

/** Parses and validates a plan once; every error names the field (e.g. `contexts.users.routes.0`). */
export function parsePlan(text: string, env: NodeJS.ProcessEnv = process.env, source = 'plan'): Plan {
  const { text: protectedText, variables } = protectVariables(text);
  let raw: unknown;
  try {
    raw = YAML.parse(protectedText);
  } catch (err) {
    throw new PlanError(`${source} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  const resolved = interpolate(raw, resolver(variables, env, problems));
  if (problems.length) throw new PlanError([...new Set(problems)].join('; '));
  try {
    return parseConfig(planSchema, resolved, source);
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
