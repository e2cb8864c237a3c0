import type { Pool } from 'pg';

/** The counts the store keeps per context and route (its `ContextCounts`; declared here so neither imports the other). */
interface Counted {
  compared: number;
  diffs: number;
  errors: number;
}
type ContextCounts = Counted & { routes: Record<string, Counted> };

/** One pair of differing values and how often it was seen: identical diffs are counted, not repeated. */
export interface DiffExample {
  monolith: unknown;
  service: unknown;
  missing?: 'monolith' | 'service';
  count: number;
  /** The newest request that showed this pair. */
  request: { method: string; path: string; requestId: string | null; at: string };
  /** The concrete JSON path in that request (`$.items[2].sku` for the group `$.items[*].sku`). */
  concretePath: string;
}

/** Comparisons of one route in which one JSON path differed (array indexes folded to `[*]`). */
export interface PathGroup {
  path: string;
  count: number;
  /** count / comparisons of the route; null when the route's counts were reset since. */
  share: number | null;
  firstSeen: string;
  lastSeen: string;
  /** How many different value pairs; `examples` holds the newest of them. */
  distinct: number;
  examples: DiffExample[];
}

export interface RouteGroup {
  route: string;
  compared: number;
  diffs: number;
  errors: number;
  paths: PathGroup[];
}

export interface NoiseGroup {
  route: string;
  path: string;
  /** Stored diffs in which this path was hidden as learned noise. */
  count: number;
  lastSeen: string;
}

export interface DiffGroups {
  context: string;
  compared: number;
  diffs: number;
  errors: number;
  routes: RouteGroup[];
  /** Paths hidden as learned noise (they differ between two calls of the monolith too), apart from the real diffs. */
  noise: NoiseGroup[];
}

const GROUPS_SQL = `
WITH entries AS (
  SELECT d.id, d.route, d.method, d.path AS request_path, d.request_id, d.created_at,
         regexp_replace(e->>'path', '\\[[0-9]+\\]', '[*]', 'g') AS field, e->>'path' AS concrete,
         e->'monolith' AS monolith, e->'service' AS service, e->>'missing' AS missing
    FROM shadow_diffs d CROSS JOIN LATERAL jsonb_array_elements(d.diffs) e
   WHERE d.context = $1 AND jsonb_typeof(e) = 'object' AND e ? 'path' AND NOT e ? 'omitted'
),
fields AS (
  SELECT route, field, count(DISTINCT id) AS count, min(created_at) AS first_seen, max(created_at) AS last_seen
    FROM entries GROUP BY route, field
),
pairs AS (
  SELECT route, field, count(*) AS count,
         row_number() OVER (PARTITION BY route, field ORDER BY max(created_at) DESC, max(id) DESC) AS rank,
         (array_agg(jsonb_build_object(
            'monolith', monolith, 'service', service, 'missing', missing, 'concretePath', concrete,
            'request', jsonb_build_object('method', method, 'path', request_path, 'requestId', request_id, 'at', created_at))
          ORDER BY created_at DESC, id DESC))[1] AS newest
    FROM entries GROUP BY route, field, monolith, service, missing
)
SELECT f.route, f.field, f.count, f.first_seen, f.last_seen, count(p.*) AS distinct,
       coalesce(jsonb_agg(p.newest || jsonb_build_object('count', p.count) ORDER BY p.rank) FILTER (WHERE p.rank <= $2), '[]') AS examples
  FROM fields f JOIN pairs p USING (route, field)
 GROUP BY f.route, f.field, f.count, f.first_seen, f.last_seen
 ORDER BY f.count DESC, f.last_seen DESC
 LIMIT $3`;

const NOISE_SQL = `
SELECT route, n AS field, count(*) AS count, max(created_at) AS last_seen
  FROM shadow_diffs d CROSS JOIN LATERAL jsonb_array_elements_text(d.noise) n
 WHERE d.context = $1
 GROUP BY route, n
 ORDER BY count(*) DESC, max(created_at) DESC
 LIMIT $2`;

const iso = (v: unknown) => new Date(v as string | Date).toISOString();

/**
 * Diffs grouped the way Diffy groups them: per route, then per JSON path (array indexes folded), with counts, share
 * of the route's comparisons, first and last seen and the newest distinct value pairs. Reads every stored diff of the
 * context (at most the store's `maxRows`), so it is meant for a person looking, not for a hot loop.
 */
export async function groupDiffs(pool: Pool, context: string, counts: ContextCounts | undefined, options: { examples: number; limit: number }): Promise<DiffGroups> {
  const [groups, noise] = await Promise.all([pool.query(GROUPS_SQL, [context, options.examples, options.limit]), pool.query(NOISE_SQL, [context, options.limit])]);
  const routes = new Map<string, RouteGroup>();
  const routeOf = (route: string): RouteGroup => {
    let r = routes.get(route);
    if (!r) {
      const c = counts?.routes[route];
      r = { route, compared: c?.compared ?? 0, diffs: c?.diffs ?? 0, errors: c?.errors ?? 0, paths: [] };
      routes.set(route, r);
    }
    return r;
  };
  for (const row of groups.rows) {
    const r = routeOf(row.route as string);
    const count = Number(row.count);
    r.paths.push({
      path: row.field as string,
      count,
      share: r.compared > 0 ? Math.min(1, count / r.compared) : null,
      firstSeen: iso(row.first_seen),
      lastSeen: iso(row.last_seen),
      distinct: Number(row.distinct),
      examples: (row.examples as (DiffExample & { missing: string | null })[]).map(({ missing, ...e }) => ({
        ...e,
        ...(missing ? { missing: missing as 'monolith' | 'service' } : {}),
        request: { ...e.request, at: iso(e.request.at) },
      })),
    });
  }
  return {
    context,
    compared: counts?.compared ?? 0,
    diffs: counts?.diffs ?? 0,
    errors: counts?.errors ?? 0,
    routes: [...routes.values()].sort((a, b) => b.diffs + b.errors - (a.diffs + a.errors) || a.route.localeCompare(b.route)),
    noise: noise.rows.map((n) => ({ route: n.route as string, path: n.field as string, count: Number(n.count), lastSeen: iso(n.last_seen) })),
  };
}
