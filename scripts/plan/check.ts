import { Client } from 'pg';
import { resolveDatabaseUrl } from '../../migrations/cdc/pipeline/definition';
import { quoteIdent } from '../../migrations/cdc/mapping/catalog';
import type { Plan, TableMapping } from '../../control/plan';

/**
 * `strangler plan check`: is the plan's world fit for a migration? Every check is one line with pass/fail and, when
 * it fails, what to do. Read-only unless `apply` is set, and then the only change made is the one the remedy names.
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  remedy?: string;
  /** What `--apply` did to make it pass. */
  applied?: string;
  /** Could not be checked from here (a database name with no server to resolve it on); not a failure. */
  skipped?: boolean;
}

export interface CheckOptions {
  /** Where a plan database given as a bare name lives (the stack's server); a full URL needs none. */
  serverUrl?: string;
  apply?: boolean;
  timeoutMs?: number;
  /** Check the monolith and this one context only (what a stage move of that context needs). */
  context?: string;
}

interface Side {
  label: string;
  url: string;
  database: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, remedy: string): CheckResult => ({ name, ok: false, detail, remedy });

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: { message?: string }[] };
  // An AggregateError (IPv4 and IPv6 both refused) has an empty message; its parts say why.
  return e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err);
}

async function answers(url: string, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return { error: errorText(cause ?? err) };
  }
}

/** The plan's sides: the monolith, then each context's service, with their database URLs resolved. */
function sides(plan: Plan, serverUrl: string | undefined): { side: Side; problem?: string }[] {
  const all = [{ label: 'monolith', database: plan.monolith.database }, ...Object.entries(plan.contexts).map(([n, c]) => ({ label: n, database: c.service.database }))];
  return all.map(({ label, database }) => {
    const isUrl = /^postgres(ql)?:\/\//.test(database);
    if (!isUrl && !serverUrl) return { side: { label, url: '', database }, problem: `"${database}" is a database name, but no Postgres server is known to resolve it on` };
    return { side: { label, url: resolveDatabaseUrl(database, serverUrl ?? ''), database } };
  });
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Type families whose values the sink carries across unchanged (or with a lossless cast). */
const FAMILIES: Record<string, string> = {
  int2: 'integer', int4: 'integer', int8: 'integer', numeric: 'numeric', float4: 'float', float8: 'float',
  text: 'text', varchar: 'text', bpchar: 'text', citext: 'text', name: 'text',
  timestamp: 'timestamp', timestamptz: 'timestamp', date: 'date', time: 'time', timetz: 'time',
  json: 'json', jsonb: 'json', bool: 'bool', uuid: 'uuid', bytea: 'bytea',
};
const family = (t: { type: string; isArray: boolean }) => `${FAMILIES[t.type] ?? t.type}${t.isArray ? '[]' : ''}`;

export function compatibleTypes(a: { type: string; isArray: boolean }, b: { type: string; isArray: boolean }): boolean {
  if (family(a) === family(b)) return true;
  // Integers and numeric hold each other's values; a uuid fits in text.
  const pair = new Set([family(a), family(b)]);
  return (pair.has('integer') && pair.has('numeric')) || (pair.has('uuid') && pair.has('text'));
}

interface ColumnShape {
  type: string;
  isArray: boolean;
  notNull: boolean;
  hasDefault: boolean;
}

interface TableShape {
  exists: boolean;
  columns: Map<string, ColumnShape>;
  primaryKey: string[];
  replicaIdentity: string;
}

async function tableShape(db: Client, table: string): Promise<TableShape> {
  const { rows } = await db.query<{ column_name: string; type_name: string; is_array: boolean; not_null: boolean; has_default: boolean; ident: string; is_pk: boolean }>(
    `SELECT a.attname AS column_name, COALESCE(et.typname, t.typname) AS type_name, t.typcategory = 'A' AS is_array,
            a.attnotnull AS not_null, a.atthasdef AS has_default, c.relreplident AS ident,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey)) AS is_pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
      WHERE n.nspname = 'public' AND c.relname = $1 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [table],
  );
  return {
    exists: rows.length > 0,
    columns: new Map(rows.map((r) => [r.column_name, { type: r.type_name, isArray: r.is_array, notNull: r.not_null, hasDefault: r.has_default }])),
    primaryKey: rows.filter((r) => r.is_pk).map((r) => r.column_name),
    replicaIdentity: rows[0]?.ident ?? 'd',
  };
}

const IDENTITY: Record<string, string> = { d: 'DEFAULT', f: 'FULL', n: 'NOTHING', i: 'INDEX' };

/** Runs every check; never throws for what it finds (an unreachable database is a failed check, not an error). */
export async function checkPlan(whole: Plan, options: CheckOptions = {}): Promise<CheckResult[]> {
  const plan = options.context ? { ...whole, contexts: { [options.context]: whole.contexts[options.context] } } : whole;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const results: CheckResult[] = [];

  const urls = [{ label: 'monolith', url: plan.monolith.url }, ...Object.entries(plan.contexts).map(([n, c]) => ({ label: `${n} service`, url: c.service.url }))];
  await Promise.all(
    urls.map(async ({ label, url }) => {
      const r = await answers(url, timeoutMs);
      results.push(
        r.status !== undefined
          ? pass(`url ${label}`, `${url} answers (HTTP ${r.status})`)
          : fail(`url ${label}`, `${url} does not answer: ${r.error}`, `start it, or fix its url in the plan`),
      );
    }),
  );

  const clients = new Map<string, Client>();
  // A service table that several monolith tables map to (embeds) is checked once.
  const seen = new Set<string>();
  try {
    for (const { side, problem } of sides(plan, options.serverUrl)) {
      const name = `database ${side.label}`;
      if (problem) {
        results.push({ name, ok: true, skipped: true, detail: `not checked: ${problem} (set STRANGLER_PG_URL, or give a postgres:// URL in the plan)` });
        continue;
      }
      const db = new Client({ connectionString: side.url, connectionTimeoutMillis: timeoutMs, application_name: 'strangler-plan-check' });
      db.on('error', () => undefined);
      try {
        await db.connect();
        await db.query('SELECT 1');
        clients.set(side.label, db);
        results.push(pass(name, `${redactUrl(side.url)} reachable`));
      } catch (err) {
        await db.end().catch(() => undefined);
        results.push(fail(name, `${redactUrl(side.url)} not reachable: ${errorText(err)}`, 'start the database, or fix the URL, user and password in the plan'));
        continue;
      }
      results.push(...(await serverChecks(db, side.label)));
    }
    for (const [ctxName, ctx] of Object.entries(plan.contexts)) {
      const monolith = clients.get('monolith');
      const service = clients.get(ctxName);
      for (const [monolithTable, mapping] of Object.entries(ctx.tables)) {
        // Embed columns of a parent are filled by the sink from child rows, not from a monolith column.
        const embedded = new Set(Object.values(ctx.tables).filter((t) => t.embed && t.table === mapping.table).map((t) => t.embed!.column));
        const found = await tableChecks(ctxName, monolithTable, mapping, monolith, service, Boolean(options.apply), embedded);
        results.push(...found.filter((r) => !seen.has(r.name)));
        for (const r of found) seen.add(r.name);
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.end().catch(() => undefined)));
  }

  results.push(...(await routeChecks(plan, timeoutMs)));
  return results;
}

async function serverChecks(db: Client, label: string): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const wal = (await db.query<{ wal_level: string }>('SHOW wal_level')).rows[0].wal_level;
  out.push(
    wal === 'logical'
      ? pass(`wal_level ${label}`, 'logical')
      : fail(`wal_level ${label}`, `wal_level=${wal}; the CDC pipelines need logical decoding`, "ALTER SYSTEM SET wal_level = 'logical'; then restart Postgres (managed: set the provider's logical replication flag)"),
  );
  const { rows } = await db.query<{ rolname: string; rolsuper: boolean; rolreplication: boolean; can_create: boolean }>(
    `SELECT rolname, rolsuper, rolreplication, has_database_privilege(current_database(), 'CREATE') AS can_create FROM pg_roles WHERE rolname = current_user`,
  );
  const r = rows[0];
  const missing = [...(r.rolsuper || r.rolreplication ? [] : ['REPLICATION (for replication slots)']), ...(r.rolsuper || r.can_create ? [] : ['CREATE on the database (for publications and the strangler_cdc schema)'])];
  out.push(
    missing.length === 0
      ? pass(`privileges ${label}`, `role ${r.rolname} may create publications and replication slots${r.rolsuper ? ' (superuser)' : ''}`)
      : fail(`privileges ${label}`, `role ${r.rolname} lacks ${missing.join(' and ')}`, `as a superuser: ALTER ROLE ${r.rolname} REPLICATION; GRANT CREATE ON DATABASE <db> TO ${r.rolname}; the role must also own the captured tables`),
  );
  return out;
}

async function tableChecks(ctx: string, monolithTable: string, mapping: TableMapping, monolith: Client | undefined, service: Client | undefined, apply: boolean, embedded: Set<string>): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const m = monolith ? await tableShape(monolith, monolithTable) : undefined;
  const s = service ? await tableShape(service, mapping.table) : undefined;
  const keyed = (label: string, side: string, t: TableShape | undefined, table: string) => {
    if (!t) return;
    const name = `table ${side}.${table}`;
    if (!t.exists) out.push(fail(name, `does not exist (${label})`, `create it (the service's migrations), or fix contexts.${ctx}.tables in the plan`));
    else if (!t.primaryKey.length) out.push(fail(name, 'has no primary key: rows cannot be matched across databases', `add a primary key (ALTER TABLE ${quoteIdent(table)} ADD PRIMARY KEY (…))`));
    else out.push(pass(name, `exists, primary key (${t.primaryKey.join(', ')})`));
  };
  keyed(`captured by ${ctx}`, 'monolith', m, monolithTable);
  keyed(`target of ${ctx}`, ctx, s, mapping.table);

  for (const [label, db, t, table] of [['monolith', monolith, m, monolithTable], [ctx, service, s, mapping.table]] as const) {
    if (!db || !t?.exists) continue;
    const name = `replica identity ${label}.${table}`;
    const ident = IDENTITY[t.replicaIdentity] ?? t.replicaIdentity;
    if (ident === 'FULL') {
      out.push(pass(name, 'FULL'));
    } else if (apply) {
      await db.query(`ALTER TABLE ${quoteIdent(table)} REPLICA IDENTITY FULL`);
      out.push({ ...pass(name, `was ${ident}`), applied: `ALTER TABLE ${quoteIdent(table)} REPLICA IDENTITY FULL` });
    } else if (t.primaryKey.length) {
      out.push(pass(name, `${ident}; extraction sets FULL (updates and deletes then carry the whole old row)`));
    } else {
      out.push(fail(name, `${ident} without a primary key: once published, UPDATE and DELETE on it fail`, 'strangler plan check --apply (sets REPLICA IDENTITY FULL)'));
    }
  }

  if (m?.exists && s?.exists) out.push(...columnChecks(ctx, monolithTable, mapping, m, s, embedded));
  return out;
}

function columnChecks(ctx: string, monolithTable: string, mapping: TableMapping, m: TableShape, s: TableShape, embedded: Set<string>): CheckResult[] {
  const name = `columns ${ctx}: ${monolithTable} → ${mapping.table}`;
  const problems: string[] = [];
  if (mapping.embed) {
    const e = mapping.embed;
    const target = s.columns.get(e.column);
    if (!target) problems.push(`${mapping.table}.${e.column} (embed target) missing`);
    else if (family(target) !== 'json') problems.push(`${mapping.table}.${e.column} is ${target.type}, an embed needs jsonb`);
    for (const c of [e.parentKey, ...(e.orderBy ? [e.orderBy] : []), ...Object.keys(e.fields)]) if (!m.columns.has(c)) problems.push(`${monolithTable}.${c} missing`);
  } else {
    const mapped = new Set<string>();
    for (const [column, shape] of m.columns) {
      if (mapping.drop.includes(column)) continue;
      const target = mapping.columns[column] ?? column;
      mapped.add(target);
      const t = s.columns.get(target);
      if (!t) problems.push(`${monolithTable}.${column} → ${mapping.table}.${target}: missing on the service (map it under columns, or list it in drop)`);
      else if (!compatibleTypes(shape, t)) problems.push(`${monolithTable}.${column} ${shape.type}${shape.isArray ? '[]' : ''} → ${mapping.table}.${target} ${t.type}${t.isArray ? '[]' : ''}: incompatible types`);
    }
    for (const column of Object.keys(mapping.columns)) if (!m.columns.has(column)) problems.push(`columns.${column}: no such monolith column`);
    for (const [column, t] of s.columns) {
      if (!mapped.has(column) && t.notNull && !t.hasDefault && !embedded.has(column)) problems.push(`${mapping.table}.${column} is NOT NULL without a default and nothing maps to it`);
    }
  }
  return problems.length
    ? [fail(name, problems.join('; '), `fix contexts.${ctx}.tables.${monolithTable} (columns / drop / embed) or the service's schema`)]
    : [pass(name, mapping.embed ? `embedded as ${mapping.table}.${mapping.embed.column}` : `${m.columns.size - mapping.drop.length} column(s) map, types compatible`)];
}

async function routeChecks(plan: Plan, timeoutMs: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const [ctxName, ctx] of Object.entries(plan.contexts)) {
    for (const route of ctx.routes) {
      if (route.method !== 'GET' && route.method !== '*') continue;
      if (route.source.includes(':') || route.source.endsWith('/*')) continue;
      for (const [side, base] of [['monolith', plan.monolith.url], [ctxName, ctx.service.url]] as const) {
        const url = new URL(route.path, base).toString();
        const r = await answers(url, timeoutMs);
        const name = `route ${ctxName}: GET ${route.path} on ${side}`;
        if (r.status !== undefined && r.status < 500) out.push(pass(name, `HTTP ${r.status}`));
        else out.push(fail(name, r.status !== undefined ? `HTTP ${r.status}` : `no answer: ${r.error}`, `a read without parameters must not fail on ${side}; see its log`));
      }
    }
  }
  return out;
}
