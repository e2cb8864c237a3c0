import { randomUUID } from 'node:crypto';
import type { Plan } from '../../control/plan';

/**
 * What the load generator asks for, taken from the plan: every route of the chosen contexts. Reads fill their path
 * parameters with real keys sampled from the monolith's tables; writes are sent only where the plan gives an example
 * body (`contexts.<name>.load.examples`), so nothing is made up about an API the toolkit does not know. Every request
 * acts as one of `actors` sticky users (`x-user-id`), so a canary's stickiness is exercised per user.
 */

/** A table column whose values fill a path parameter or a `{{key table.column}}` template. */
export interface KeyRef {
  table: string;
  column: string;
}

export interface LoadTarget {
  /** As the summary shows it, e.g. `GET /api/books/:id`. */
  route: string;
  context: string;
  method: string;
  /** Path template: `/api/books/:id`, or from an example `/api/loans?memberId={{key members.id}}`. */
  path: string;
  body?: unknown;
  write: boolean;
  weight: number;
  /** Where each `:param` of the path takes its values from. */
  params: Record<string, KeyRef>;
  /** A 201 answer's `id` joins this key pool, so later reads find the new row. */
  creates?: KeyRef;
}

/** A table of the monolith's database: its name and primary key. */
export interface CatalogTable {
  name: string;
  primaryKey: string[];
}

export interface PlannedRequest {
  route: string;
  write: boolean;
  method: string;
  path: string;
  body?: unknown;
  /** The acting user, sent as `x-user-id` unless the run sends its own credentials. */
  actor: string;
  target: LoadTarget;
}

const READ_WEIGHT = 4;
const WRITE_WEIGHT = 1;
const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];
/** Keys remembered per pool: enough variety, bounded memory on long runs. */
const MAX_KEYS = 2_000;

export const keyName = (k: KeyRef) => `${k.table}.${k.column}`;

const singular = (s: string) => s.replace(/ies$/, 'y').replace(/s$/, '');

/**
 * The table a path parameter points into: the segment before it (`/books/:id` → books), or the parameter's own name
 * (`:bookId` → books), matched to the monolith's tables by name, singular or plural, or through the context's mapping
 * to the service's table names. Only single-column primary keys can fill a parameter.
 */
export function tableForParam(segments: string[], index: number, plan: Plan, context: string, tables: CatalogTable[]): KeyRef | undefined {
  const param = segments[index].slice(1);
  const before = index > 0 && !segments[index - 1].startsWith(':') ? segments[index - 1] : undefined;
  const hints = [param.replace(/_?id$/i, ''), before].filter((h): h is string => Boolean(h)).map((h) => h.toLowerCase().replace(/-/g, '_'));
  const keyed = tables.filter((t) => t.primaryKey.length === 1);
  const byName = (name: string) => keyed.find((t) => t.name.toLowerCase() === name || singular(t.name.toLowerCase()) === singular(name));
  const mapped = Object.entries(plan.contexts[context]?.tables ?? {}).filter(([, m]) => !m.embed);
  for (const hint of hints) {
    const direct = byName(hint);
    if (direct) return { table: direct.name, column: direct.primaryKey[0] };
    const viaService = mapped.find(([, m]) => singular(m.table.toLowerCase()) === singular(hint));
    const t = viaService && byName(viaService[0].toLowerCase());
    if (t) return { table: t.name, column: t.primaryKey[0] };
  }
  // The context's own first table: `/api/things/:id` of a context that owns one table.
  const own = mapped.map(([name]) => keyed.find((t) => t.name === name)).find(Boolean);
  return own ? { table: own.name, column: own.primaryKey[0] } : undefined;
}

const TEMPLATE = /\{\{\s*key\s+([^}\s]+)\.([^}\s.]+)\s*\}\}/g;

/** Every `{{key table.column}}` a template uses, in a path or anywhere in a body. */
export function templateKeys(value: unknown): KeyRef[] {
  const out: KeyRef[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') for (const m of v.matchAll(TEMPLATE)) out.push({ table: m[1], column: m[2] });
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

export interface PlanTargets {
  targets: LoadTarget[];
  /** Routes left out, each with why (a write without an example, a parameter no table fills). */
  skipped: string[];
}

function paramsOf(path: string, plan: Plan, context: string, tables: CatalogTable[]): { params: Record<string, KeyRef>; missing?: string } {
  const segments = path.split('?')[0].split('/').filter(Boolean);
  const params: Record<string, KeyRef> = {};
  for (let i = 0; i < segments.length; i++) {
    if (!segments[i].startsWith(':')) continue;
    const ref = tableForParam(segments, i, plan, context, tables);
    if (!ref) return { params, missing: segments[i] };
    params[segments[i].slice(1)] = ref;
  }
  return { params };
}

/** The requests a run can make for these contexts: pure, from the plan and the monolith's table list. */
export function planTargets(plan: Plan, contexts: string[], tables: CatalogTable[]): PlanTargets {
  const targets: LoadTarget[] = [];
  const skipped: string[] = [];
  for (const context of contexts) {
    const ctx = plan.contexts[context];
    const examples = Object.entries(ctx.load?.examples ?? {}).map(([key, body]) => {
      const [, method, path] = /^(\S+)\s+(.*)$/.exec(key.trim()) ?? ['', key, '/'];
      return { key, method: method.toUpperCase(), path: path.trim(), body, used: false };
    });
    const add = (method: string, path: string, body: unknown, display: string) => {
      const { params, missing } = paramsOf(path, plan, context, tables);
      if (missing) return void skipped.push(`${display}: no table with a one-column primary key fills ${missing}`);
      const write = WRITE_METHODS.includes(method);
      const segments = path.split('?')[0].split('/').filter(Boolean);
      const creates = method === 'POST' && !segments.some((s) => s.startsWith(':')) ? tableForParam([...segments, ':id'], segments.length, plan, context, tables) : undefined;
      targets.push({ route: display, context, method, path, body: write ? body : undefined, write, weight: write ? WRITE_WEIGHT : READ_WEIGHT, params, creates });
    };
    for (const route of ctx.routes) {
      if (route.path.endsWith('/*')) {
        skipped.push(`${route.source}: a "rest of path" route needs an example with a concrete path`);
        continue;
      }
      const methods = route.method === '*' ? ['GET', ...WRITE_METHODS] : [route.method];
      for (const method of methods) {
        // A read's example may add a query string the route needs (`GET /api/payments?orderId={{key orders.id}}`).
        const example = examples.find((e) => e.method === method && e.path.split('?')[0] === route.path);
        if (example) example.used = true;
        if (method === 'GET' || method === 'HEAD') add(method, example?.path ?? route.path, undefined, `${method} ${route.path}`);
        else if (example) add(method, route.path, example.body, `${method} ${route.path}`);
        else if (route.method !== '*') skipped.push(`${method} ${route.path}: a write needs an example body under contexts.${context}.load.examples`);
      }
    }
    // Examples that name no route of the plan as written (a query string, a concrete path) are requests of their own.
    for (const e of examples.filter((x) => !x.used)) add(e.method, e.path, e.body, `${e.method} ${e.path.split('?')[0]}`);
  }
  return { targets, skipped };
}

/** Picks requests from the targets and fills their templates from the key pools. */
export class Workload {
  private readonly keys = new Map<string, unknown[]>();
  private readonly reads: LoadTarget[];
  private seq = 0;

  constructor(
    /** Makes this run's generated values unique (`{{run}}`), so runs never collide on unique columns. */
    readonly runId: string,
    readonly targets: LoadTarget[],
    private readonly actors: number,
    private readonly random: () => number = Math.random,
  ) {
    this.reads = targets.filter((t) => !t.write);
  }

  /** The key pools every target needs: path parameters and `{{key …}}` templates. */
  neededKeys(): KeyRef[] {
    const all = this.targets.flatMap((t) => [...Object.values(t.params), ...templateKeys(t.path), ...templateKeys(t.body)]);
    return [...new Map(all.map((k) => [keyName(k), k])).values()];
  }

  addKeys(ref: KeyRef, values: unknown[]): void {
    const pool = this.keys.get(keyName(ref)) ?? [];
    pool.push(...values);
    if (pool.length > MAX_KEYS) pool.splice(0, pool.length - MAX_KEYS);
    this.keys.set(keyName(ref), pool);
  }

  keyCounts(): Record<string, number> {
    return Object.fromEntries([...this.keys].map(([k, v]) => [k, v.length]));
  }

  /** Targets whose keys are all there; the others wait until a create gives them some. */
  private ready(t: LoadTarget): boolean {
    return [...Object.values(t.params), ...templateKeys(t.path), ...templateKeys(t.body)].every((k) => (this.keys.get(keyName(k))?.length ?? 0) > 0);
  }

  get runnable(): LoadTarget[] {
    return this.targets.filter((t) => this.ready(t));
  }

  /** The next request; with writes paused, a read takes the write's place so the offered rate stays the same. */
  next(writesAllowed: boolean): PlannedRequest | undefined {
    const pool = (writesAllowed ? this.targets : this.reads).filter((t) => this.ready(t));
    if (!pool.length) return undefined;
    return this.build(this.pick(pool));
  }

  /** One request of this target, its parameters and templates filled. */
  build(t: LoadTarget): PlannedRequest {
    this.seq += 1;
    const path = this.render(t.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (m, name: string) => (t.params[name] ? encodeURIComponent(String(this.anyKey(t.params[name]))) : m)), true) as string;
    return { route: t.route, write: t.write, method: t.method, path, body: t.body === undefined ? undefined : this.render(t.body, false), actor: String(1 + Math.floor(this.random() * this.actors)), target: t };
  }

  /** Learns keys from successful creates, so later reads and writes can use them. */
  observe(request: PlannedRequest, status: number | null, body: unknown): void {
    if (status !== 201 || !request.target.creates) return;
    const b = body as Record<string, unknown> | undefined;
    const id = b?.[request.target.creates.column] ?? b?.id;
    if (typeof id === 'number' || typeof id === 'string') this.addKeys(request.target.creates, [id]);
  }

  private anyKey(ref: KeyRef): unknown {
    const pool = this.keys.get(keyName(ref)) ?? [];
    return pool[Math.floor(this.random() * pool.length)];
  }

  private pick(entries: readonly LoadTarget[]): LoadTarget {
    const total = entries.reduce((sum, e) => sum + e.weight, 0);
    let r = this.random() * total;
    for (const e of entries) {
      r -= e.weight;
      if (r < 0) return e;
    }
    return entries[entries.length - 1];
  }

  /**
   * `{{seq}}`, `{{run}}`, `{{uuid}}`, `{{now}}` and `{{key table.column}}`. A string that is exactly one key template
   * becomes the key's own value (a number stays a number); in a path every value is URL-encoded.
   */
  private render(value: unknown, inPath: boolean): unknown {
    if (typeof value === 'string') {
      const whole = /^\{\{\s*key\s+([^}\s]+)\.([^}\s.]+)\s*\}\}$/.exec(value);
      if (whole && !inPath) return this.anyKey({ table: whole[1], column: whole[2] });
      const enc = (v: unknown) => (inPath ? encodeURIComponent(String(v)) : String(v));
      return value
        .replace(TEMPLATE, (_m, table: string, column: string) => enc(this.anyKey({ table, column })))
        .replace(/\{\{\s*seq\s*\}\}/g, String(this.seq))
        .replace(/\{\{\s*run\s*\}\}/g, this.runId)
        .replace(/\{\{\s*uuid\s*\}\}/g, () => randomUUID())
        .replace(/\{\{\s*now\s*\}\}/g, () => new Date().toISOString());
    }
    if (Array.isArray(value)) return value.map((v) => this.render(v, inPath));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.render(v, inPath)]));
    return value;
  }
}
