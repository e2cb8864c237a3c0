import { z } from 'zod';
import { closed } from './closed';
import { parseRoutePattern } from './routes';

/** Context names become flag names (`strangler.<context>.route`), topic prefixes and database names. */
const contextName = z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, 'must be lower-case letters, digits or _ (max 31)');

/**
 * A table or column name exactly as Postgres stores it: `users`, or Sequelize's `Users` / `createdAt`, which SQL must
 * quote (every statement built from plan names quotes them). `"Users"` with its quotes is the same name. Kafka topic
 * names are built from table names, hence no characters beyond letters, digits and `_`.
 */
export const identifier = z
  .string()
  .transform((s) => (/^".*"$/.test(s) ? s.slice(1, -1) : s))
  .pipe(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a table name of letters, digits and _ (max 63), e.g. users or "Users"'));
const tableName = identifier;
const columnName = z.string().transform((s) => (/^".+"$/.test(s) ? s.slice(1, -1) : s)).pipe(z.string().min(1).max(63));

const endpointShape = {
  url: z.string().url('must be an http(s) URL'),
  /** A database name on the stack's Postgres server, or a full postgres:// URL. */
  database: z.string().min(1),
};
const endpoint = closed(endpointShape);

/**
 * The monolith's forward topics are `<topicPrefix>.public.<table>`. Two migrations sharing one Kafka cluster (or
 * two test runs sharing one broker) need different prefixes.
 */
const monolithEndpoint = closed({
  ...endpointShape,
  topicPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be letters, digits, _ or - (a Kafka topic name part)').default('monolith'),
});

const route = z.string().transform((s, ctx) => {
  try {
    return parseRoutePattern(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** How a table's conflicts are settled (see `conflict` below and migrations/cdc/sink/conflicts.ts). */
export const CONFLICT_POLICIES = ['lastWriterWins', 'monolithWins', 'serviceWins', 'stageOwnerWins'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/**
 * How one monolith table maps to the service's schema. Columns not listed are copied under the same name.
 * `embed` folds child rows into a jsonb array column of the parent (order_items → orders.items).
 */
const tableMapping = closed({
  table: tableName,
  columns: z.record(columnName, columnName).default({}),
  drop: z.array(columnName).default([]),
  embed: closed({
    column: columnName,
    parentKey: columnName,
    orderBy: columnName.optional(),
    fields: z.record(columnName, z.string()).default({}),
  }).optional(),
  /**
   * Reference data the service only reads: synced monolith → service only, never reverse-synced, and a write by
   * the service to it is a violation at every stage (the CDC worker's write guard rejects and counts it).
   */
  reference: z.boolean().optional(),
  /**
   * Which version stays when both sides wrote the same row (its conflict unit) between two syncs: the later write
   * (default), always the monolith's or the service's, or the side that takes the context's writes in its stage.
   */
  conflict: z.enum(CONFLICT_POLICIES).optional(),
});

const percent = z.number().min(0).max(100);
const rate = z.number().min(0).max(1);

const gates = closed({
  shadow: closed({ maxLagMs: z.number().int().min(0).default(5000) }).default({ maxLagMs: 5000 }),
  canary: closed({ minCompared: z.number().int().min(0).default(100), maxDiffRate: rate.default(0.01), reconcileClean: z.boolean().default(true) })
    .default({ minCompared: 100, maxDiffRate: 0.01, reconcileClean: true }),
  cutover: closed({ minRequests: z.number().int().min(0).default(100), maxErrorRate: rate.default(0.01), maxLagMs: z.number().int().min(0).default(5000) })
    .default({ minRequests: 100, maxErrorRate: 0.01, maxLagMs: 5000 }),
  retired: closed({ noFallbackForSeconds: z.number().int().min(0).default(0) }).default({ noFallbackForSeconds: 0 }),
});

const autoRollback = closed({
  enabled: z.boolean().default(true),
  maxErrorRate: rate.default(0.05),
  minRequests: z.number().int().min(1).default(50),
  windowSeconds: z.number().int().min(1).default(60),
});

const shadow = closed({
  /**
   * `none` (the default): only GET and HEAD are mirrored to the service. `dryRun`: writes are mirrored too, marked
   * `x-strangler-shadow: 1`; the service promises to commit nothing for them, and the CDC worker verifies it.
   */
  writes: z.enum(['none', 'dryRun']).default('none'),
  /** JSON paths ($.a.b, $.items[*].id) whose differences are expected and not counted. */
  ignore: z.array(z.string()).default([]),
  /** Response headers compared besides status and body. */
  headers: z.array(z.string().transform((h) => h.toLowerCase())).default([]),
  /** Paths of arrays compared as multisets rather than in order. */
  unorderedArrays: z.array(z.string()).default([]),
  /** Field names whose values are never stored in a diff. */
  redact: z.array(z.string()).default([]),
  /** Share of safe requests sent to the monolith twice to learn noise (0 disables). */
  noiseSampleRate: rate.default(0.05),
});

/**
 * Debezium connector options a pipeline honours, under Debezium's own names and with its defaults (see
 * migrations/cdc/events/README.md). Strict: a misspelt option would otherwise be ignored silently.
 */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return pattern.length > 0;
  } catch {
    return false;
  }
}

const cdcOptionsShape = {
  'decimal.handling.mode': z.enum(['precise', 'string', 'double']).optional(),
  'time.precision.mode': z.enum(['adaptive', 'adaptive_time_microseconds', 'connect']).optional(),
  'binary.handling.mode': z.enum(['bytes', 'base64', 'base64-url-safe', 'hex']).optional(),
  'skipped.operations': z
    .string()
    .regex(/^(none|[cudt](,[cudt])*)$/, 'must be "none" or a comma-separated list of c, u, d, t')
    .optional(),
  'tombstones.on.delete': z.boolean().optional(),
  'provide.transaction.metadata': z.boolean().optional(),
  'key.converter.schemas.enable': z.boolean().optional(),
  'value.converter.schemas.enable': z.boolean().optional(),
  'message.prefix.include.list': z
    .string()
    .refine((list) => list.split(',').every(compiles), 'must be comma-separated regular expressions')
    .optional(),
};
const cdcOptions = closed(cdcOptionsShape);

/** Options for both of a context's pipelines, with per-direction overrides. */
const cdc = closed({ ...cdcOptionsShape, forward: cdcOptions.optional(), reverse: cdcOptions.optional() });

/**
 * Traffic for the gates (`strangler load`, `strangler demo`): example requests by `"METHOD /path"` — a body for a
 * write, anything (`{}`) for a read with a query string. Templates: `{{key table.column}}` (a real key from the
 * monolith), `{{seq}}`, `{{run}}`, `{{uuid}}`, `{{now}}`.
 */
const load = closed({
  examples: z.record(z.string().regex(/^(GET|HEAD|POST|PUT|PATCH|DELETE) \/.*$/, 'must be "METHOD /path"'), z.unknown()).default({}),
});

const context = closed({
  service: endpoint,
  routes: z.array(route).min(1, 'a context needs at least one route'),
  tables: z.record(tableName, tableMapping).default({}),
  shadow: shadow.default(shadow.parse({})),
  gates: gates.partial().optional(),
  autoRollback: autoRollback.partial().optional(),
  canarySteps: z.array(percent).optional(),
  cdc: cdc.optional(),
  /** The forward pipeline's initial load: `bulk` (COPY into the service) or `events` (`r` events through Kafka). */
  snapshot: z.enum(['bulk', 'events']).default('bulk'),
  load: load.optional(),
});

/**
 * Where the facade finds the user a canary keeps on one side: the first source that yields a value wins. A JWT is
 * verified when `secret` (HS256) or `jwksUrl` (RS256/ES256) is given, and only decoded otherwise.
 */
const jwtSource = closed({
  /** Dotted path into the payload: `sub`, `user.id`. */
  claim: z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a claim name or a dotted path such as user.id'),
  /** Authorization schemes that carry the token: `Bearer`, `Token`, … */
  schemes: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must be an auth scheme such as Bearer or Token')).min(1).default(['Bearer']),
  secret: z.string().min(1).optional(),
  jwksUrl: z.string().url('must be the URL of a JWKS document').optional(),
});

const stickySource = closed({
  header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name').transform((h) => h.toLowerCase()).optional(),
  cookie: z.string().min(1).optional(),
  jwt: jwtSource.optional(),
}).superRefine((s, ctx) => {
  const given = (['header', 'cookie', 'jwt'] as const).filter((k) => s[k] !== undefined);
  if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of header, cookie or jwt${given.length ? ` (got ${given.join(' and ')})` : ''}` });
});

const stickiness = closed({
  from: z.array(stickySource).min(1, 'list at least one source, e.g. - header: x-user-id'),
  /** Without a user: `address` keeps a client on one side by its address; `none` leaves it on the monolith in canary. */
  fallback: z.enum(['address', 'none']).default('none'),
});

/** Two contexts claiming exactly the same requests: which one wins would depend on the order of the plan. */
function ambiguousRoutes(contexts: Record<string, { routes?: unknown }>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, { context: string; index: number; source: string }>();
  for (const [name, c] of Object.entries(contexts ?? {})) {
    // Also run when other fields failed (one error per problem): skip whatever did not parse.
    if (!c || !Array.isArray(c.routes)) continue;
    c.routes.forEach((r: { method?: string; path?: string; source: string }, index) => {
      if (typeof r?.method !== 'string' || typeof r.path !== 'string') return;
      const shape = `${r.method} ${r.path.toLowerCase().replace(/:[^/]+/g, ':')}`;
      const first = seen.get(shape);
      if (!first) seen.set(shape, { context: name, index, source: r.source });
      else if (first.context !== name) {
        ctx.addIssue({
          code: 'custom',
          path: ['contexts', name, 'routes', index],
          message: `route "${r.source}" is ambiguous: contexts.${first.context}.routes.${first.index} ("${first.source}") matches the same requests`,
        });
      }
    });
  }
}

export const planSchema = closed({
  version: z.literal(1),
  monolith: monolithEndpoint,
  contexts: z.record(contextName, context).refine((c) => Object.keys(c).length > 0, 'a plan needs at least one context'),
  stickiness: stickiness.optional(),
  defaults: closed({
      gates: gates.default(gates.parse({})),
      autoRollback: autoRollback.default(autoRollback.parse({})),
      canarySteps: z.array(percent).default([10, 50]),
    })
    .default({ gates: gates.parse({}), autoRollback: autoRollback.parse({}), canarySteps: [10, 50] }),
}).superRefine((plan, ctx) => ambiguousRoutes(plan.contexts, ctx), { when: () => true });

export type Plan = z.infer<typeof planSchema>;
export type PlanContext = Plan['contexts'][string];
export type Gates = z.infer<typeof gates>;
export type AutoRollback = z.infer<typeof autoRollback>;
export type TableMapping = z.infer<typeof tableMapping>;
export type CdcOptions = z.infer<typeof cdcOptions>;
export type ShadowRules = z.infer<typeof shadow>;
export type Stickiness = z.infer<typeof stickiness>;
export type StickySource = z.infer<typeof stickySource>;
export type JwtSource = z.infer<typeof jwtSource>;
