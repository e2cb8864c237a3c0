/**
 * Route patterns of a plan: `METHOD /path/with/:params`, `*` for any method, a trailing `/*` for any rest of path.
 * The most specific match wins, so `GET /api/users/:id/orders` (orders) beats `* /api/users/*` (users).
 */
export interface RoutePattern {
  /** Upper-case method, or `*`. */
  method: string;
  path: string;
  /** As written in the plan, for status output and diffs. */
  source: string;
}

export interface CompiledRoute<T> {
  pattern: RoutePattern;
  value: T;
  segments: (string | null)[];
  rest: boolean;
  score: number[];
}

const METHODS = new Set(['*', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export class RoutePatternError extends Error {
  constructor(source: string, why: string) {
    super(`bad route ${JSON.stringify(source)}: ${why}`);
    this.name = 'RoutePatternError';
  }
}

export function parseRoutePattern(source: string): RoutePattern {
  const m = /^\s*(\S+)\s+(\/\S*)\s*$/.exec(source);
  if (!m) throw new RoutePatternError(source, 'expected "METHOD /path", e.g. "GET /api/items/:id" or "* /api/items"');
  const method = m[1].toUpperCase();
  if (!METHODS.has(method)) throw new RoutePatternError(source, `unknown method ${m[1]}`);
  const path = m[2].length > 1 ? m[2].replace(/\/+$/, '') : m[2];
  for (const seg of path.split('/').slice(1)) {
    if (seg === '') throw new RoutePatternError(source, 'empty path segment');
    if (seg.startsWith(':') && !/^:[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) throw new RoutePatternError(source, `bad parameter ${seg}`);
  }
  if (path.includes('*') && !/\/\*$/.test(path)) throw new RoutePatternError(source, '"*" is only allowed as the last segment');
  return { method, path, source: source.trim() };
}

function compile<T>(pattern: RoutePattern, value: T): CompiledRoute<T> {
  const parts = pattern.path === '/' ? [] : pattern.path.split('/').slice(1);
  const rest = parts[parts.length - 1] === '*';
  if (rest) parts.pop();
  // Literals are matched lower-case: the facade lower-cases paths, as Express's routing ignores case.
  const segments = parts.map((p) => (p.startsWith(':') ? null : p.toLowerCase()));
  // Specificity, compared element by element: literal segments, then exact length over "rest", then a named method.
  const literals = segments.filter((s) => s !== null).length;
  const score = [literals, rest ? 0 : 1, segments.length, pattern.method === '*' ? 0 : 1];
  return { pattern, value, segments, rest, score };
}

const byScore = (a: { score: number[] }, b: { score: number[] }) => {
  for (let i = 0; i < a.score.length; i++) if (a.score[i] !== b.score[i]) return b.score[i] - a.score[i];
  return 0;
};

/**
 * A route table. Routes are sorted once by specificity, so matching is a scan that stops at the first hit;
 * a plan has tens of routes, so this beats anything cleverer on the hot path.
 */
export class RouteTable<T> {
  private readonly routes: CompiledRoute<T>[];

  constructor(entries: { pattern: RoutePattern; value: T }[]) {
    this.routes = entries.map((e) => compile(e.pattern, e.value)).sort(byScore);
  }

  match(method: string, rawPath: string): CompiledRoute<T> | undefined {
    const q = rawPath.indexOf('?');
    const path = q === -1 ? rawPath : rawPath.slice(0, q);
    const parts = path.split('/');
    // parts[0] is '' for an absolute path; a trailing slash leaves a trailing ''.
    let n = parts.length - 1;
    if (n > 0 && parts[n] === '') n -= 1;
    const upper = method.toUpperCase();
    for (const r of this.routes) {
      if (r.pattern.method !== '*' && r.pattern.method !== upper && !(upper === 'HEAD' && r.pattern.method === 'GET')) continue;
      const len = r.segments.length;
      if (r.rest ? n < len : n !== len) continue;
      let ok = true;
      for (let i = 0; i < len; i++) {
        const seg = r.segments[i];
        const actual = parts[i + 1];
        if (seg === null ? actual === '' : seg !== actual) {
          ok = false;
          break;
        }
      }
      if (ok) return r;
    }
    return undefined;
  }

  all(): CompiledRoute<T>[] {
    return this.routes;
  }
}
