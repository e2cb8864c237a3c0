import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parsePlan } from '../../control/plan';
import { appComponents, DEFAULT_PORTS, type AppComponent, type StackAddresses } from '../../scripts/stack/topology';

/**
 * Docker cannot run here, so docker-compose.yml is checked against the code statically: what would otherwise only
 * fail on someone's laptop (a config var the file does not set, a port or entry that moved, a depends_on on a
 * service without a healthcheck) fails this test instead.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const exists = (rel: string) => fs.existsSync(path.join(ROOT, rel));

type Env = Record<string, string>;

interface ComposeService {
  image?: string;
  deploy?: { replicas?: number };
  expose?: (string | number)[];
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

// Compose resolves YAML merge keys (`<<: *node-env`); so must the parser.
const compose = YAML.parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
const names = Object.keys(services);
const byName = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${JSON.stringify(name)}`);
  return s;
};

function envOf(service: ComposeService): Env {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw) ? raw.map((kv) => kv.split(/=(.*)/s).slice(0, 2)) : Object.entries(raw);
  return Object.fromEntries(entries.map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
}

/** `${VAR:-default}` as compose resolves it when the shell and .env leave VAR unset. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_][A-Z0-9_]*(?::?-([^}]*))?\}/g, (_m, fallback?: string) => fallback ?? '');

function commandOf(service: ComposeService): string[] {
  const c = service.command;
  return c === undefined ? [] : Array.isArray(c) ? c : c.split(/\s+/);
}

/**
 * A Node component runs `node dist/<entry>.js`, the compiled entry: the one Dockerfile, the entry picked by the
 * command. Returns the TypeScript entry it was compiled from, as the local stack names it.
 */
function entryOf(service: ComposeService): string | undefined {
  const cmd = commandOf(service);
  const compiled = cmd[0] === 'node' && cmd.length === 2 ? /^dist\/(.+)\.js$/.exec(cmd[1]) : null;
  return compiled ? `${compiled[1]}.ts` : undefined;
}

const nodeServices = names.filter((n) => entryOf(byName(n)) !== undefined);

const replicas = (service: ComposeService) => service.deploy?.replicas ?? 1;

/** Host and container side of each published port; an exposed one has no host side. */
function portMappings(service: ComposeService): { host: number | null; container: number }[] {
  const exposed = (service.expose ?? []).map((p) => ({ host: null, container: Number(String(p).split('/')[0]) }));
  return [...exposed, ...(service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: Number(p.published ?? p.target), container: p.target };
    const parts = String(p).split('/')[0].split(':');
    const container = Number(parts[parts.length - 1]);
    return { host: parts.length > 1 ? Number(parts[parts.length - 2]) : container, container };
  })];
}

function healthcheckText(service: ComposeService): string {
  const t = service.healthcheck?.test;
  return Array.isArray(t) ? t.join(' ') : (t ?? '');
}

/** Keys of every `z.object({...})` in a source file, at the object's top level: the env vars a schema reads. */
function zodObjectKeys(text: string): string[] {
  // Comments mention words like "API:" that would read as keys.
  const source = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const keys: string[] = [];
  let from = 0;
  for (;;) {
    const start = source.indexOf('z.object({', from);
    if (start === -1) break;
    let depth = 0;
    let i = start + 'z.object('.length;
    const bodyStart = i + 1;
    for (; i < source.length; i++) {
      const ch = source[i];
      if (ch === '{' || ch === '(' || ch === '[') depth++;
      else if (ch === '}' || ch === ')' || ch === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    const body = source.slice(bodyStart, i);
    // Only depth-1 keys: blank out nested brackets so their keys do not count.
    let flat = '';
    let d = 0;
    for (const ch of body) {
      if (ch === '{' || ch === '(' || ch === '[') d++;
      if (d === 0) flat += ch;
      if (ch === '}' || ch === ')' || ch === ']') d--;
    }
    for (const m of flat.matchAll(/(?:^|[,\s])([A-Z][A-Z0-9_]*)\s*:/g)) keys.push(m[1]);
    from = i;
  }
  return [...new Set(keys)];
}

/** Variables every Node process reads through lib/: tracing's schema plus the plain `process.env.X` reads. */
function libEnvKeys(): string[] {
  const direct = ['lib/http/server.ts', 'lib/logger.ts'].flatMap((f) => [...read(f).matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  return [...new Set([...zodObjectKeys(read('lib/telemetry/tracing.ts')), ...direct])];
}

/** Files under a folder (recursively), tests left out: where a component's own code lives. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '__tests__') out.push(...sourceFiles(rel));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const loadsPlan = (entry: string) => sourceFiles(path.dirname(entry)).some((f) => /\bloadPlan\(/.test(read(f)));
const planText = read('migrations/shop.plan.yaml');
const planVariables = [...new Set([...planText.replace(/(^|\s)#.*$/gm, '').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]))];

const initSql = fs
  .readdirSync(path.join(ROOT, 'docker', 'postgres-init'))
  .map((f) => read(path.join('docker', 'postgres-init', f)))
  .join('\n');
const createdDatabases = new Set([...initSql.matchAll(/CREATE DATABASE\s+"?([a-z_][a-z0-9_]*)"?/gi)].map((m) => m[1]));

/** Whether .dockerignore leaves a repository path out of the build context (its glob subset: *, ?, **, !). */
function dockerIgnored(file: string): boolean {
  const toRegex = (pattern: string) => {
    let re = '';
    for (const part of pattern.replace(/^\/+|\/+$/g, '').split('/')) {
      if (part === '**') {
        re += '(?:[^/]+/)*';
        continue;
      }
      re += `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}/`;
    }
    // A pattern also covers everything below a directory it names.
    return new RegExp(`^${re.replace(/\/$/, '')}(?:/.*)?$`);
  };
  let ignored = false;
  for (const raw of read('.dockerignore').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    if (toRegex(negated ? line.slice(1) : line).test(file)) ignored = !negated;
  }
  return ignored;
}

const fakeAddresses: StackAddresses = {
  internalSecret: 'internal-secret-0123456789',
  urls: { monolith: 'http://x', users: 'http://x', orders: 'http://x', payments: 'http://x', notifications: 'http://x', cdc: 'http://x', facade: 'http://x' },
  kafkaBrokers: 'x:1',
  unleashUrl: 'http://x',
  unleashClientToken: 'x',
  unleashAdminToken: 'x',
  adminToken: 'x',
  home: '/x',
  workshop: false,
};
const components: AppComponent[] = appComponents({ ...DEFAULT_PORTS });

describe('docker-compose.yml', () => {
  it('runs every component of the local stack under the same name, entry and port', () => {
    expect([...nodeServices].sort()).toEqual(components.map((c) => c.name).sort());
    for (const c of components) {
      const service = byName(c.name);
      const env = envOf(service);
      expect({ service: c.name, entry: entryOf(service), PORT: env.PORT }).toEqual({ service: c.name, entry: c.entry, PORT: String(c.port) });
      // Replicas cannot share a host port: the load balancer publishes it, and they only listen on it.
      const publisher = replicas(service) > 1 ? byName('lb') : service;
      expect(portMappings(publisher)).toContainEqual({ host: c.port, container: c.port });
      if (publisher !== service) expect(portMappings(service)).toContainEqual({ host: null, container: c.port });
    }
  });

  it('runs two facades and two CDC workers behind nginx, which publishes their ports and retries only what is safe', () => {
    const lb = byName('lb');
    expect(lb.image).toMatch(/^nginx:\d+\.\d+\.\d+/);
    expect(lb.volumes).toContain('./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    const conf = read('docker/nginx/nginx.conf').replace(/#.*$/gm, '');
    for (const name of ['facade', 'cdc']) {
      const service = byName(name);
      expect({ name, replicas: replicas(service) }).toEqual({ name, replicas: 2 });
      const port = Number(envOf(service).PORT);
      // The upstream names the service (compose's DNS: one address per replica, re-resolved) on its port.
      const upstream = new RegExp(`upstream\\s+(\\w+)\\s*\\{[^}]*server\\s+${name}:${port}\\s+resolve`).exec(conf);
      expect({ name, upstream: Boolean(upstream) }).toEqual({ name, upstream: true });
      const server = new RegExp(`listen\\s+${port};[^}]*proxy_pass\\s+http://${upstream![1]};`).test(conf);
      expect({ name, listensAndProxies: server }).toEqual({ name, listensAndProxies: true });
      expect(lb.depends_on).toMatchObject({ [name]: { condition: 'service_healthy' } });
      // Nothing a replica must own alone may be shared: no fixed worker id, no named volume for the flag backup.
      expect(envOf(service).CDC_WORKER_ID ?? '').toBe('');
      for (const v of service.volumes ?? []) expect({ name, volume: v }).toEqual({ name, volume: expect.stringMatching(/^\//) });
    }
    // Compose's own DNS, and nginx's rule: a request is sent to another replica only after a connection error or
    // timeout, and nginx never resends a POST or PATCH on its own.
    expect(conf).toMatch(/resolver\s+127\.0\.0\.11/);
    expect(conf).toMatch(/proxy_next_upstream\s+error timeout;/);
    expect(conf).not.toMatch(/non_idempotent/);
    // Who calls the facades or the workers goes through the balancer, not to one replica by DNS.
    expect(envOf(byName('facade')).STRANGLER_CDC_URL).toBe('http://lb:8083');
    expect(envOf(byName('cdc')).CDC_ALLOWED_HOSTS.split(',')).toEqual(expect.arrayContaining(['cdc', 'lb']));
    for (const name of names) {
      for (const [key, value] of Object.entries(envOf(byName(name)))) {
        expect({ name, key, direct: /^https?:\/\/(facade|cdc):/.test(value) }).toEqual({ name, key, direct: false });
      }
    }
  });

  it('publishes the infrastructure on the local stack\'s host ports', () => {
    expect(portMappings(byName('postgres')).map((p) => p.host)).toContain(DEFAULT_PORTS.postgres);
    expect(portMappings(byName('unleash')).map((p) => p.host)).toContain(DEFAULT_PORTS.unleash);
    expect(portMappings(byName('kafka')).map((p) => p.host)).toContain(DEFAULT_PORTS.kafka);
  });

  it('gives every service a pinned image, or a build whose context and Dockerfile exist', () => {
    for (const name of names) {
      const s = byName(name);
      expect({ name, hasImageOrBuild: Boolean(s.image || s.build) }).toEqual({ name, hasImageOrBuild: true });
      if (s.build) {
        const build = typeof s.build === 'string' ? { context: s.build } : s.build;
        const context = build.context ?? '.';
        expect({ name, context: exists(context) }).toEqual({ name, context: true });
        expect({ name, dockerfile: exists(path.join(context, build.dockerfile ?? 'Dockerfile')) }).toEqual({ name, dockerfile: true });
      }
      if (s.image) {
        const lastSegment = s.image.split('/').pop()!;
        const tag = s.image.includes('@sha256:') ? 'digest' : lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
        expect({ name, image: s.image, pinned: tag !== undefined && tag !== '' && tag !== 'latest' }).toEqual({ name, image: s.image, pinned: true });
      }
    }
  });

  it('builds every Node component from the one Dockerfile into one image', () => {
    const builds = nodeServices.map((n) => byName(n));
    expect(new Set(builds.map((s) => JSON.stringify(s.build))).size).toBe(1);
    expect(new Set(builds.map((s) => s.image)).size).toBe(1);
  });

  it('starts every Node component from a compiled entry that the image builds from sources it contains', () => {
    const dockerfile = read('Dockerfile');
    // The build stage copies the sources and compiles them; the runtime stage takes dist/ from it.
    const buildStage = dockerfile.slice(dockerfile.indexOf(' AS build'), dockerfile.indexOf('FROM', dockerfile.indexOf(' AS build')));
    const copied = [...buildStage.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    expect(buildStage).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const built = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as { include: string[] };
    for (const name of nodeServices) {
      const entry = entryOf(byName(name))!;
      expect({ name, entry, exists: exists(entry) }).toEqual({ name, entry, exists: true });
      expect({ name, entry, copied: copied.includes(entry.split('/')[0]), built: built.include.includes(entry.split('/')[0]) }).toEqual({ name, entry, copied: true, built: true });
      // The entry's own folder (its config, its modules) and lib/ must survive .dockerignore.
      const kept = [entry, path.join(path.dirname(entry), 'config.ts'), 'lib/config.ts', 'lib/http/server.ts'].filter((f) => dockerIgnored(f));
      expect({ name, ignored: kept }).toEqual({ name, ignored: [] });
    }
  });

  it('sets every variable each component\'s config reads, and the shared ones lib/ reads', () => {
    const shared = libEnvKeys();
    expect(shared).toEqual(expect.arrayContaining(['HOST', 'LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME']));
    for (const name of nodeServices) {
      const entry = entryOf(byName(name))!;
      const configFile = path.join(path.dirname(entry), 'config.ts');
      expect({ name, configFile, exists: exists(configFile) }).toEqual({ name, configFile, exists: true });
      const keys = zodObjectKeys(read(configFile));
      expect(keys).toContain('PORT');
      const env = envOf(byName(name));
      const missing = [...keys, ...shared].filter((k) => !(k in env));
      expect({ name, missing }).toEqual({ name, missing: [] });
    }
  });

  it('sets the variables the local stack hands each component (same names as `strangler up`)', () => {
    for (const c of components) {
      const env = envOf(byName(c.name));
      const expected = [c.databaseEnv ?? (c.database ? 'DATABASE_URL' : undefined), ...Object.keys(c.env?.(fakeAddresses) ?? {})].filter(Boolean) as string[];
      const missing = expected.filter((k) => !(k in env));
      expect({ name: c.name, missing }).toEqual({ name: c.name, missing: [] });
      if (c.database) {
        const url = new URL(withDefaults(env[c.databaseEnv ?? 'DATABASE_URL']));
        expect({ name: c.name, database: url.pathname.slice(1) }).toEqual({ name: c.name, database: c.database });
      }
    }
  });

  it('resolves the plan to compose host names and ports for every component that loads it', () => {
    const planLoaders = nodeServices.filter((n) => loadsPlan(entryOf(byName(n))!));
    expect(planLoaders).toEqual(expect.arrayContaining(['facade', 'cdc']));
    for (const name of planLoaders) {
      const env = Object.fromEntries(Object.entries(envOf(byName(name))).map(([k, v]) => [k, withDefaults(v)]));
      const unset = planVariables.filter((v) => !env[v]);
      expect({ name, unset }).toEqual({ name, unset: [] });
      const planFile = env.STRANGLER_PLAN?.replace(/^\/app\//, '');
      if (planFile) expect({ name, planFile, exists: exists(planFile) }).toEqual({ name, planFile, exists: true });
      const plan = parsePlan(planText, env);
      const targets = [{ name: 'monolith', ...plan.monolith }, ...Object.entries(plan.contexts).map(([ctx, c]) => ({ name: ctx, ...c.service }))];
      for (const t of targets) {
        const url = new URL(t.url);
        expect({ context: t.name, host: url.hostname, port: url.port }).toEqual({ context: t.name, host: t.name, port: envOf(byName(t.name)).PORT });
        expect({ context: t.name, database: t.database, created: createdDatabases.has(t.database) }).toEqual({ context: t.name, database: t.database, created: true });
      }
    }
  });

  it('points every URL, database and broker address at a compose service that listens there', () => {
    const containerPorts = (name: string) => portMappings(byName(name)).map((p) => p.container);
    const kafkaAdvertised = envOf(byName('kafka')).KAFKA_ADVERTISED_LISTENERS ?? '';
    for (const name of names) {
      for (const [key, raw] of Object.entries(envOf(byName(name)))) {
        const value = withDefaults(raw);
        if (/^https?:\/\//.test(value)) {
          const url = new URL(value);
          if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') continue;
          expect({ name, key, host: url.hostname, known: names.includes(url.hostname) }).toEqual({ name, key, host: url.hostname, known: true });
          expect({ name, key, listens: containerPorts(url.hostname).includes(Number(url.port)) }).toEqual({ name, key, listens: true });
        } else if (/^postgres(ql)?:\/\//.test(value)) {
          const url = new URL(value);
          expect({ name, key, host: url.hostname, port: Number(url.port) }).toEqual({ name, key, host: 'postgres', port: 5432 });
          const database = url.pathname.slice(1);
          expect({ name, key, database, created: database === 'postgres' || createdDatabases.has(database) }).toEqual({ name, key, database, created: true });
        } else if (key === 'KAFKA_BROKERS') {
          for (const broker of value.split(',')) {
            expect({ name, broker, advertised: kafkaAdvertised.includes(`//${broker.trim()}`) }).toEqual({ name, broker, advertised: true });
          }
        }
      }
    }
  });

  it('hands the facade the very tokens Unleash is initialised with', () => {
    const unleash = envOf(byName('unleash'));
    const facade = envOf(byName('facade'));
    expect(facade.UNLEASH_ADMIN_TOKEN).toBe(unleash.INIT_ADMIN_API_TOKENS);
    expect(facade.UNLEASH_CLIENT_TOKEN).toBe(unleash.INIT_BACKEND_API_TOKENS);
    // Unleash's formats: an admin token for every project and environment, a backend token for one of each.
    expect(withDefaults(facade.UNLEASH_ADMIN_TOKEN)).toMatch(/^\*:\*\..+/);
    expect(withDefaults(facade.UNLEASH_CLIENT_TOKEN)).toMatch(/^[^:.*]+:[^:.*]+\..+/);
    expect(withDefaults(facade.STRANGLER_ADMIN_TOKEN).length).toBeGreaterThanOrEqual(16);
  });

  it('probes each Node component\'s health on its own port', () => {
    for (const name of nodeServices) {
      const port = envOf(byName(name)).PORT;
      expect({ name, probe: healthcheckText(byName(name)) }).toEqual({ name, probe: expect.stringContaining(`http://127.0.0.1:${port}/`) });
    }
    expect(healthcheckText(byName('facade'))).toContain('/_strangler/health');
  });

  it('makes every depends_on wait for a service that has a healthcheck', () => {
    for (const name of names) {
      const deps = byName(name).depends_on ?? {};
      const entries = Array.isArray(deps) ? deps.map((d) => [d, {}] as const) : Object.entries(deps);
      for (const [dep, opts] of entries) {
        const target = services[dep];
        expect({ name, dep, exists: Boolean(target) }).toEqual({ name, dep, exists: true });
        const checked = Boolean(target.healthcheck?.test) && !target.healthcheck?.disable;
        expect({ name, dep, healthcheck: checked, condition: (opts as { condition?: string }).condition }).toEqual({
          name,
          dep,
          healthcheck: true,
          condition: 'service_healthy',
        });
      }
    }
  });

  it('never leaves a variable to the host\'s environment by accident', () => {
    for (const name of names) {
      const raw = byName(name).environment ?? {};
      const values = Array.isArray(raw) ? raw.map((kv) => (kv.includes('=') ? kv : null)) : Object.values(raw);
      // A null (`KEY:` with no value) would pass the host's value through, or nothing; booleans are refused by compose.
      for (const v of values) expect({ name, type: typeof v }).toEqual({ name, type: expect.stringMatching(/^(string|number)$/) });
    }
  });

  it('runs Postgres with logical decoding and creates every database the components use', () => {
    const pg = byName('postgres');
    expect(commandOf(pg).join(' ')).toMatch(/wal_level=logical/);
    expect(pg.volumes).toContainEqual(expect.stringMatching(/^\.\/docker\/postgres-init:\/docker-entrypoint-initdb\.d/));
    for (const c of components) if (c.database) expect({ database: c.database, created: createdDatabases.has(c.database) }).toEqual({ database: c.database, created: true });
    expect(createdDatabases.has('unleash')).toBe(true);
  });

  it('bind-mounts only paths that exist in the repository', () => {
    for (const name of names) {
      for (const v of byName(name).volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.type === 'bind' ? v.source : undefined;
        if (source && (source.startsWith('./') || source.startsWith('../'))) expect({ name, source, exists: exists(source) }).toEqual({ name, source, exists: true });
      }
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('installs production dependencies in a stage of its own and runs on node:24-bookworm-slim as a non-root user', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1].replace(/^\$\{NODE_IMAGE\}$/, /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1] ?? ''));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[stages.length - 1]).toBe('node:24-bookworm-slim');
    const user = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(dockerfile).toMatch(/^HEALTHCHECK\s/m);
  });

  it('ships the files the compiled code reads at run time, found from the project root', () => {
    for (const file of ['migrations/shop.plan.yaml', 'facade/src/dashboard/static']) {
      expect({ file, copied: new RegExp(`^COPY ${file}\\s`, 'm').test(dockerfile), ignored: dockerIgnored(file) }).toEqual({ file, copied: true, ignored: false });
    }
  });
});
