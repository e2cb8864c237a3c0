import { compareResponses, type Captured } from './compare';
import { compileRules, type CompiledRules } from './rules';
import { normalizePath } from './paths';

export interface NoiseLearnerOptions {
  /** Routes remembered; the least recently observed is forgotten first. */
  maxRoutes?: number;
  /** Noise paths kept per route; further ones are not learned (and counted in `snapshot`). */
  maxPathsPerRoute?: number;
  /**
   * An observation with more differing paths than this is discarded: two back-to-back calls of one system that
   * differ that much saw a concurrent change (a new row shifting a list), not per-call values.
   */
  maxPathsPerObservation?: number;
  /** Observations a path must differ in before it counts as noise. */
  minHits?: number;
}

/** What the rules of a context need to compare two monolith responses like the shadow comparison will. */
export interface ObserveContext {
  rules: CompiledRules;
  route: string;
  method: string;
}

interface RouteNoise {
  noise: Set<string>;
  /** Paths seen differing fewer than `minHits` times so far. */
  pending: Map<string, number>;
  observations: number;
  discarded: number;
  overflow: number;
}

export interface NoiseSnapshot {
  [routeKey: string]: { paths: string[]; observations: number; discarded: number; overflow: number };
}

const NO_RULES = compileRules({});
const EMPTY: ReadonlySet<string> = new Set();

/**
 * Learns which response fields change between two calls of the same system (timestamps, request ids, random
 * tokens), per route. A shadow diff on such a field says nothing about the service, so it is reported as noise.
 */
export class NoiseLearner {
  private readonly routes = new Map<string, RouteNoise>();
  private readonly maxRoutes: number;
  private readonly maxPaths: number;
  private readonly maxPerObservation: number;
  private readonly minHits: number;

  constructor(options: NoiseLearnerOptions = {}) {
    this.maxRoutes = options.maxRoutes ?? 500;
    this.maxPaths = options.maxPathsPerRoute ?? 64;
    this.maxPerObservation = options.maxPathsPerObservation ?? 20;
    this.minHits = Math.max(1, options.minHits ?? 1);
  }

  /**
   * Compares two responses of the same system to the same request. Returns the normalized paths that differed
   * and were taken into account (empty when the observation was discarded).
   */
  observe(routeKey: string, first: Captured, second: Captured, context?: ObserveContext): string[] {
    // A status change between two calls is the system failing or racing, not noise; learning it would hide every
    // status diff of the route for good.
    if (first.status !== second.status) return [];
    const result = compareResponses({
      route: context?.route ?? '',
      method: context?.method ?? 'GET',
      monolith: first,
      service: second,
      rules: context?.rules ?? NO_RULES,
      maxDiffs: this.maxPerObservation + 1,
    });
    const r = this.entry(routeKey);
    r.observations++;
    if (result.diffCount === 0) return [];
    // Truncated bodies compare as bytes, and "the cut bodies differ" is no field to learn.
    if (result.diffCount > this.maxPerObservation || result.markers.some((m) => m.path === '$body.truncated')) {
      r.discarded++;
      return [];
    }
    const learned: string[] = [];
    for (const d of result.diffs) {
      // A field present in one call only is a shape change (or a list that grew), never a per-call value.
      if (d.missing) continue;
      const path = normalizePath(d.path);
      if (r.noise.has(path)) continue;
      const hits = (r.pending.get(path) ?? 0) + 1;
      if (hits < this.minHits) {
        if (r.pending.size < this.maxPaths * 2) r.pending.set(path, hits);
        continue;
      }
      r.pending.delete(path);
      if (r.noise.size >= this.maxPaths) {
        r.overflow++;
        continue;
      }
      r.noise.add(path);
      learned.push(path);
    }
    return learned;
  }

  noiseFor(routeKey: string): ReadonlySet<string> {
    return this.routes.get(routeKey)?.noise ?? EMPTY;
  }

  snapshot(): NoiseSnapshot {
    const out: NoiseSnapshot = {};
    for (const [key, r] of this.routes) {
      out[key] = { paths: [...r.noise].sort(), observations: r.observations, discarded: r.discarded, overflow: r.overflow };
    }
    return out;
  }

  /** Forgets what was learned (for one route or all), e.g. after a monolith deploy. */
  reset(routeKey?: string): void {
    if (routeKey === undefined) this.routes.clear();
    else this.routes.delete(routeKey);
  }

  private entry(routeKey: string): RouteNoise {
    let r = this.routes.get(routeKey);
    if (r) {
      // Re-insert so the map's order is least recently observed first.
      this.routes.delete(routeKey);
    } else {
      r = { noise: new Set(), pending: new Map(), observations: 0, discarded: 0, overflow: 0 };
      if (this.routes.size >= this.maxRoutes) this.routes.delete(this.routes.keys().next().value as string);
    }
    this.routes.set(routeKey, r);
    return r;
  }
}
