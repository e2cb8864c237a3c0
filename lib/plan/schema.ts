import { z } from 'zod';
import { parseRoutePattern } from './routes';

/** Context names become flag names (`strangler.<context>.route`), topic prefixes and database names. */
const contextName = z.string().regex(/^[a-z][a-z0-9_]{0,30}$/, 'must be lower-case letters, digits or _ (max 31)');
const tableName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain SQL identifier');

const endpoint = z.object({
  url: z.string().url('must be an http(s) URL'),
  /** A database name on the stack's Postgres server, or a full postgres:// URL. */
  database: z.string().min(1),
});

const route = z.string().transform((s, ctx) => {
  try {
    return parseRoutePattern(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/**
 * How one monolith table maps to the service's schema. Columns not listed are copied under the same name.
 * `embed` folds child rows into a jsonb array column of the parent (order_items → orders.items).
 */
const tableMapping = z.object({
  table: tableName,
  columns: z.record(z.string(), z.string()).default({}),
  drop: z.array(z.string()).default([]),
  embed: z
    .object({
      column: z.string(),
      parentKey: z.string(),
      orderBy: z.string().optional(),
      fields: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
});

const percent = z.number().min(0).max(100);
const rate = z.number().min(0).max(1);

const gates = z.object({
  shadow: z.object({ maxLagMs: z.number().int().min(0).default(5000) }).default({ maxLagMs: 5000 }),
  canary: z
    .object({ minCompared: z.number().int().min(0).default(100), maxDiffRate: rate.default(0.01), reconcileClean: z.boolean().default(true) })
    .default({ minCompared: 100, maxDiffRate: 0.01, reconcileClean: true }),
  cutover: z
    .object({ minRequests: z.number().int().min(0).default(100), maxErrorRate: rate.default(0.01), maxLagMs: z.number().int().min(0).default(5000) })
    .default({ minRequests: 100, maxErrorRate: 0.01, maxLagMs: 5000 }),
  retired: z.object({ noFallbackForSeconds: z.number().int().min(0).default(0) }).default({ noFallbackForSeconds: 0 }),
});

const autoRollback = z.object({
  enabled: z.boolean().default(true),
  maxErrorRate: rate.default(0.05),
  minRequests: z.number().int().min(1).default(50),
  windowSeconds: z.number().int().min(1).default(60),
});

const shadow = z.object({
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
 * Traffic for the gates (`strangler load`, `strangler demo`): example requests by `"METHOD /path"` — a body for a
 * write, anything (`{}`) for a read with a query string. Templates: `{{key table.column}}` (a real key from the
 * monolith), `{{seq}}`, `{{run}}`, `{{uuid}}`, `{{now}}`.
 */
const load = z.object({
  examples: z.record(z.string().regex(/^(GET|HEAD|POST|PUT|PATCH|DELETE) \/.*$/, 'must be "METHOD /path"'), z.unknown()).default({}),
});

const context = z.object({
  service: endpoint,
  routes: z.array(route).min(1, 'a context needs at least one route'),
  tables: z.record(tableName, tableMapping).default({}),
  shadow: shadow.default(shadow.parse({})),
  gates: gates.partial().optional(),
  autoRollback: autoRollback.partial().optional(),
  canarySteps: z.array(percent).optional(),
  load: load.optional(),
});

export const planSchema = z.object({
  version: z.literal(1),
  monolith: endpoint,
  contexts: z.record(contextName, context).refine((c) => Object.keys(c).length > 0, 'a plan needs at least one context'),
  defaults: z
    .object({
      gates: gates.default(gates.parse({})),
      autoRollback: autoRollback.default(autoRollback.parse({})),
      canarySteps: z.array(percent).default([10, 50]),
    })
    .default({ gates: gates.parse({}), autoRollback: autoRollback.parse({}), canarySteps: [10, 50] }),
});

export type Plan = z.infer<typeof planSchema>;
export type PlanContext = Plan['contexts'][string];
export type Gates = z.infer<typeof gates>;
export type AutoRollback = z.infer<typeof autoRollback>;
export type TableMapping = z.infer<typeof tableMapping>;
export type ShadowRules = z.infer<typeof shadow>;
