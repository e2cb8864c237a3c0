import type { ShadowRules } from '../../../control/plan';
import { parsePattern, PathSyntaxError, type PatternSeg, type Segment } from './paths';

/**
 * The plan's shadow rules (ignore, unordered arrays, route-qualified or not) compiled once into patterns that a
 * comparison walks down the body alongside the JSON, one segment at a time.
 */
export const IGNORE = 0;
export const UNORDERED = 1;
export type Tag = typeof IGNORE | typeof UNORDERED;

interface Rule {
  source: string;
  tag: Tag;
  /** Route qualifier: upper-case method or `*`, and the route path with parameter names erased. */
  method?: string;
  routePath?: string;
  special?: string;
  segs?: PatternSeg[];
}

/** A rule pattern part-way through a walk: `i` is the next pattern segment to match. */
export interface State {
  segs: PatternSeg[];
  i: number;
  tag: Tag;
}

/** The rules that apply to one plan route and method, ready for walking. */
export interface RouteRules {
  specials: ReadonlySet<string>;
  root: State[];
  ignoreWholeBody: boolean;
  unorderedRoot: boolean;
}

export interface CompiledRules {
  /** Lower-case response header names compared besides status and body. */
  readonly headers: readonly string[];
  /** Lower-case field names never stored in a diff. */
  readonly redact: readonly string[];
  readonly noiseSampleRate: number;
  /** The ignore and unordered rules that apply to a plan route (its source) and request method; cached. */
  forRoute(route: string, method: string): RouteRules;
}

export interface CompileOptions {
  /** Where the rules come from, for error messages (e.g. `contexts.users.shadow`). */
  label?: string;
  /** The context's route sources: a route-qualified rule naming none of them is a mistake worth failing on. */
  routes?: readonly string[];
}

const METHODS = new Set(['*', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const ROUTE_CACHE_MAX = 1000;

/** `/api/users/:id/` → `/api/users/:`: parameter names and trailing slashes do not make routes different. */
function routePathKey(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return trimmed.replace(/\/:[^/]+/g, '/:');
}

function parseRule(source: string, tag: Tag, where: string): Rule {
  const qualified = /^\s*(\S+)\s+(\/\S*)\s+(\$.*?)\s*$/.exec(source);
  let rule: Rule = { source, tag };
  let pathSource = source;
  if (qualified) {
    const method = qualified[1].toUpperCase();
    if (!METHODS.has(method)) throw new Error(`${where}: unknown method ${JSON.stringify(qualified[1])} in ${JSON.stringify(source)}`);
    rule = { ...rule, method, routePath: routePathKey(qualified[2]) };
    pathSource = qualified[3];
  }
  try {
    const parsed = parsePattern(pathSource);
    if (parsed.special) {
      if (tag === UNORDERED) throw new PathSyntaxError(pathSource, 'only body paths can be unordered arrays');
      return { ...rule, special: parsed.special };
    }
    return { ...rule, segs: parsed.segs };
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}

/**
 * Parses a context's shadow rules once, at start-up. Entries are `$.json.path` (any route) or
 * `METHOD /route/pattern $.json.path` (that plan route only, `*` for any method).
 */
export function compileRules(rules: Partial<ShadowRules>, options: CompileOptions = {}): CompiledRules {
  const label = options.label ?? 'shadow';
  const parsed: Rule[] = [
    ...(rules.ignore ?? []).map((s, i) => parseRule(s, IGNORE, `${label}.ignore[${i}]`)),
    ...(rules.unorderedArrays ?? []).map((s, i) => parseRule(s, UNORDERED, `${label}.unorderedArrays[${i}]`)),
  ];
  if (options.routes) {
    const known = new Set(options.routes.map((r) => routePathKey(r.trim().split(/\s+/)[1] ?? '')));
    for (const r of parsed) {
      if (r.routePath !== undefined && !known.has(r.routePath)) {
        throw new Error(`${label}: ${JSON.stringify(r.source)} names a route that is not one of the context's routes (${options.routes.join(', ')})`);
      }
    }
  }
  const cache = new Map<string, RouteRules>();

  const build = (route: string, method: string): RouteRules => {
    const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(route);
    const routeMethod = m?.[1].toUpperCase();
    const routePath = m ? routePathKey(m[2]) : undefined;
    const specials = new Set<string>();
    const root: State[] = [];
    let ignoreWholeBody = false;
    let unorderedRoot = false;
    for (const r of parsed) {
      if (r.routePath !== undefined) {
        if (r.routePath !== routePath) continue;
        if (r.method !== '*' && r.method !== method && r.method !== routeMethod) continue;
      }
      if (r.special) {
        specials.add(r.special);
        if (r.special === '$body') ignoreWholeBody = true;
      } else if (r.segs!.length === 0) {
        if (r.tag === IGNORE) ignoreWholeBody = true;
        else unorderedRoot = true;
      } else {
        root.push({ segs: r.segs!, i: 0, tag: r.tag });
      }
    }
    return { specials, root, ignoreWholeBody, unorderedRoot };
  };

  return {
    headers: [...new Set((rules.headers ?? []).map((h) => h.toLowerCase()))],
    redact: [...new Set((rules.redact ?? []).map((r) => r.toLowerCase()))],
    noiseSampleRate: rules.noiseSampleRate ?? 0,
    forRoute(route, rawMethod) {
      const method = rawMethod.toUpperCase();
      const key = `${method} ${route}`;
      let hit = cache.get(key);
      if (!hit) {
        // Routes come from the plan, so this stays small; the bound guards against a caller passing raw paths.
        if (cache.size >= ROUTE_CACHE_MAX) cache.clear();
        hit = build(route, method);
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

export interface Step {
  next: State[];
  ignore: boolean;
  unordered: boolean;
}

const NO_RULES: Step = Object.freeze({ next: [], ignore: false, unordered: false }) as Step;

function segMatches(p: PatternSeg, seg: Segment): boolean {
  switch (p.t) {
    case 'key':
      return seg === p.key;
    case 'anyKey':
      return typeof seg === 'string';
    case 'index':
      return seg === p.index;
    case 'anyIndex':
      return typeof seg === 'number';
    default:
      return false;
  }
}

function advance(st: State, i: number, seg: Segment, out: Step): void {
  const p = st.segs[i];
  if (p.t === 'descend') {
    // Stay in the descent for deeper levels, and also try the segment after it at this one.
    if (!out.next.some((s) => s.segs === st.segs && s.i === i)) out.next.push(i === st.i ? st : { segs: st.segs, i, tag: st.tag });
    advance(st, i + 1, seg, out);
    return;
  }
  if (!segMatches(p, seg)) return;
  if (i + 1 === st.segs.length) {
    if (st.tag === IGNORE) out.ignore = true;
    else out.unordered = true;
  } else if (!out.next.some((s) => s.segs === st.segs && s.i === i + 1)) {
    out.next.push({ segs: st.segs, i: i + 1, tag: st.tag });
  }
}

/** Moves every live rule one segment down the tree. Free when no rule is live, which is most of a body. */
export function step(states: readonly State[], seg: Segment): Step {
  if (states.length === 0) return NO_RULES;
  const out: Step = { next: [], ignore: false, unordered: false };
  for (const st of states) advance(st, st.i, seg, out);
  return out;
}

