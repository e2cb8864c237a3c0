import type { DbTable, ForeignKey, SchemaGraph } from './schema-graph';

/**
 * `strangler init`'s reasoning, pure: contexts from the foreign-key graph. A table belongs to the aggregate of the
 * parent it cannot live without (`order_items` → orders: its name says so, or it is deleted with the parent and has
 * no clock of its own); every other table with a primary key is an aggregate root and a candidate context. Small
 * lookup tables that others point at and that point nowhere (genres, currencies) are reference data. Every foreign
 * key left between two contexts is coupling someone must break. It is a draft: the output says what to decide.
 */
export interface ProposedContext {
  name: string;
  root: string;
  /** Tables the root owns, with the foreign key that says so. */
  owned: { table: string; via: ForeignKey }[];
  /** Reference tables the aggregate reads. */
  references: string[];
  routes: string[];
  /** Example request bodies from the OpenAPI document, by "METHOD /path". */
  examples: Record<string, unknown>;
}

export interface Coupling {
  fk: ForeignKey;
  fromContext: string;
  toContext: string;
}

export interface Proposal {
  contexts: ProposedContext[];
  reference: string[];
  couplings: Coupling[];
  /** Tables no context takes (no primary key, migration bookkeeping), each with why. */
  leftOut: { table: string; why: string }[];
  problems: string[];
  /** OpenAPI paths that matched no context: they stay on the monolith. */
  unassignedRoutes: string[];
}

const BOOKKEEPING = /^(sequelizemeta|schema_migrations|migrations|knex_migrations(_lock)?|_prisma_migrations|flyway_schema_history|databasechangelog(lock)?|ar_internal_metadata|umzug_migrations|strangler_.*)$/i;
const CLOCK = /^(created|updated|inserted|modified)_?(at|on|date|time)$/i;

export const singular = (s: string) => s.toLowerCase().replace(/ies$/, 'y').replace(/(ss|x|ch|sh)es$/, '$1').replace(/s$/, '');
const hasClock = (t: DbTable) => t.columns.some((c) => CLOCK.test(c));

export function contextNameFor(table: string, taken: Set<string>): string {
  let base = table.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[a-z]/.test(base)) base = `c_${base}`;
  base = base.slice(0, 28) || 'context';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export interface OpenApiRoute {
  method: string;
  path: string;
  example?: unknown;
}

export function propose(graph: SchemaGraph, routes: OpenApiRoute[] = []): Proposal {
  const problems: string[] = [];
  const leftOut: { table: string; why: string }[] = [];
  const byName = new Map(graph.tables.map((t) => [t.name, t]));
  const usable = new Set<string>();
  for (const t of graph.tables) {
    if (BOOKKEEPING.test(t.name)) leftOut.push({ table: t.name, why: 'migration bookkeeping: stays with the monolith' });
    else if (!t.primaryKey.length) leftOut.push({ table: t.name, why: 'no primary key: rows cannot be matched across databases; add one, then add the table to a context' });
    else usable.add(t.name);
  }
  const fks = graph.foreignKeys.filter((f) => usable.has(f.from) && usable.has(f.to) && f.from !== f.to);
  if (!graph.tables.length) problems.push('the database has no tables in schema public');
  else if (!graph.foreignKeys.length) problems.push('no foreign keys: every table became a context of its own; group the tables that change together by hand');
  if (graph.tables.length > 100) problems.push(`${graph.tables.length} tables: the draft has one context per aggregate; merge the ones one team owns before extracting any`);

  const outgoing = (t: string) => fks.filter((f) => f.from === t);
  const incoming = (t: string) => fks.filter((f) => f.to === t);

  // Ownership: the child's name starts with the parent's (order_items → order), or it is deleted with its parent and
  // has no clock of its own. A table with two candidate owners belongs to neither: it is an aggregate of its own.
  const owner = new Map<string, ForeignKey>();
  for (const t of usable) {
    const candidates = outgoing(t).filter((f) => f.notNull && (t.toLowerCase().startsWith(`${singular(f.to)}_`) || (f.onDeleteCascade && !hasClock(byName.get(t)!))));
    const parents = new Set(candidates.map((f) => f.to));
    if (parents.size === 1) owner.set(t, candidates[0]);
  }
  const isReference = (t: string) => {
    const table = byName.get(t)!;
    return !owner.has(t) && outgoing(t).length === 0 && incoming(t).length > 0 && !hasClock(table) && table.columns.length <= 3 && ![...owner.values()].some((f) => f.to === t);
  };
  const reference = [...usable].filter(isReference).sort();
  const rootOf = (t: string): string => {
    const seen = new Set<string>();
    let cur = t;
    while (owner.has(cur) && !seen.has(cur)) {
      seen.add(cur);
      cur = owner.get(cur)!.to;
    }
    return cur;
  };

  const taken = new Set<string>();
  const roots = [...usable].filter((t) => !owner.has(t) && !reference.includes(t)).sort();
  const contexts: ProposedContext[] = roots.map((root) => {
    const members = [...usable].filter((t) => t !== root && owner.has(t) && rootOf(t) === root).sort();
    const aggregate = new Set([root, ...members]);
    const references = [...new Set(fks.filter((f) => aggregate.has(f.from) && reference.includes(f.to)).map((f) => f.to))].sort();
    return { name: contextNameFor(root, taken), root, owned: members.map((m) => ({ table: m, via: owner.get(m)! })), references, routes: [], examples: {} };
  });
  const contextOfTable = new Map<string, string>();
  for (const c of contexts) for (const t of [c.root, ...c.owned.map((o) => o.table)]) contextOfTable.set(t, c.name);

  const couplings: Coupling[] = [];
  for (const f of fks) {
    const a = contextOfTable.get(f.from);
    const b = contextOfTable.get(f.to);
    if (a && b && a !== b) couplings.push({ fk: f, fromContext: a, toContext: b });
  }

  // Leaves first: a context nothing depends on is the cheapest to extract (MIGRATION.md, the order of extraction).
  const dependents = (c: ProposedContext) => new Set(couplings.filter((x) => x.toContext === c.name).map((x) => x.fromContext)).size;
  contexts.sort((a, b) => dependents(a) - dependents(b) || a.name.localeCompare(b.name));
  const keyed = graph.tables.filter((t) => usable.has(t.name) && t.primaryKey.length === 1);
  const unassignedRoutes = assignRoutes(contexts, routes.map((r) => ({ ...r, example: withRealKeys(r.example, keyed) })));
  return { contexts, reference, couplings, leftOut, problems, unassignedRoutes };
}

/**
 * A path belongs to the context whose table its last resource segment names (`/api/users/{id}/orders` → orders,
 * `/api/orders/{id}/cancel` → orders). Methods of one path stay together as `*` when all five are there.
 */
function assignRoutes(contexts: ProposedContext[], routes: OpenApiRoute[]): string[] {
  const unassigned: string[] = [];
  // A reference table's routes go to the first context that reads it (it serves them once extracted).
  const names = contexts.map((c) => ({ c, names: [c.root, ...c.owned.map((o) => o.table), ...c.references].map(singular) }));
  const byPath = new Map<string, OpenApiRoute[]>();
  for (const r of routes) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  for (const [path, rs] of byPath) {
    const literals = path.split('/').filter((s) => s && !s.startsWith(':')).map((s) => singular(s.replace(/-/g, '_')));
    let owner: ProposedContext | undefined;
    for (const seg of literals) owner = names.find((n) => n.names.includes(seg))?.c ?? owner;
    if (!owner) {
      unassigned.push(...rs.map((r) => `${r.method} ${path}`));
      continue;
    }
    const methods = [...new Set(rs.map((r) => r.method))];
    if (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].every((m) => methods.includes(m))) owner.routes.push(`* ${path}`);
    else owner.routes.push(...methods.map((m) => `${m} ${path}`));
    for (const r of rs) if (r.example !== undefined && r.method !== 'GET') owner.examples[`${r.method} ${path}`] = r.example;
  }
  return unassigned;
}

/** A field named after a table (`genreId`, `member_id`) takes a real key of it: `{{key genres.id}}`. */
export function withRealKeys(example: unknown, tables: DbTable[]): unknown {
  if (Array.isArray(example)) return example.map((e) => withRealKeys(e, tables));
  if (!example || typeof example !== 'object') return example;
  return Object.fromEntries(
    Object.entries(example).map(([k, v]) => {
      const m = /^(.+?)_?[iI]d$/.exec(k);
      const t = m && (typeof v === 'string' || typeof v === 'number') ? tables.find((x) => singular(x.name) === singular(m[1].replace(/([a-z0-9])([A-Z])/g, '$1_$2'))) : undefined;
      return [k, t ? `{{key ${t.name}.${t.primaryKey[0]}}}` : withRealKeys(v, tables)];
    }),
  );
}
