import fs from 'node:fs';
import path from 'node:path';
import { isPortTaken } from '../../lib/net/ports';
import { DEFAULT_PLAN_PATH, flagNames, loadPlan, type Plan } from '../../control/plan';
import { checkPlan } from '../plan/check';
import { formatCheck } from '../plan/format';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { Component, type ComponentEvent } from './component';
import { logStream, prepareHome, stackPaths, writeStackState, type StackState } from './home';
import { KafkaLauncherError, startKafkaBroker } from './kafka-broker';
import { PortTakenError, startStackPostgres } from './postgres';
import { loadOrCreateSecrets } from './secrets';
import { appComponents, DEFAULT_PORTS, PORT_ENV, TOOLKIT_PORTS, toolkitComponents, type StackAddresses, type StackPorts } from './topology';
import { defaultUnleashTokens, startUnleash, UNLEASH_UI_LOGIN } from './unleash';

export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}

export function stackPorts(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const ports = { ...DEFAULT_PORTS } as StackPorts;
  for (const key of Object.keys(PORT_ENV) as (keyof StackPorts)[]) {
    const raw = env[PORT_ENV[key]];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new StackError(`${PORT_ENV[key]} must be a port number, got ${JSON.stringify(raw)}`);
    ports[key] = n;
  }
  return ports;
}

export interface StackRow {
  component: string;
  address: string;
  notes: string;
}

/**
 * The whole local system, each part in its own process: Postgres, Unleash, Kafka, the monolith, the four services
 * and the facade. `start()` stops whatever it had started if a later part fails; `stop()` goes in reverse order.
 * With a plan file, only the toolkit's own parts start (Postgres for their state, Unleash, Kafka, the CDC worker,
 * the facade) in front of the plan's monolith and services, which run elsewhere; the plan is checked first.
 */
export class LocalStack {
  private readonly started: { name: string; stop: () => Promise<void> }[] = [];
  readonly rows: StackRow[] = [];
  readonly paths = stackPaths();
  state?: StackState;

  constructor(
    private readonly options: { fresh?: boolean; planFile?: string; workshop?: boolean; log: (line: string) => void; onComponentEvent: (e: ComponentEvent) => void },
  ) {}

  async start(): Promise<StackState> {
    const { paths } = this;
    if (this.options.fresh) fs.rmSync(paths.home, { recursive: true, force: true });
    prepareHome(paths.home);
    const ports = stackPorts();
    const planFile = this.options.planFile ? path.resolve(this.options.planFile) : undefined;
    // A bad plan is refused before anything starts.
    const plan = loadStackPlan(planFile);
    const externalPg = process.env.STRANGLER_PG_URL || undefined;
    const externalKafka = process.env.KAFKA_BROKERS || undefined;
    await this.checkPorts(ports, { externalPg: Boolean(externalPg), externalKafka: Boolean(externalKafka), toolkitOnly: Boolean(planFile) });
    const secrets = loadOrCreateSecrets(paths.home);
    try {
      this.options.log('starting postgres…');
      const pg = await startStackPostgres({ dataDir: paths.pgData, port: ports.postgres, externalUrl: externalPg }).catch((err: Error) => {
        throw new StackError(err instanceof PortTakenError ? err.message : `postgres failed to start: ${err.message}`);
      });
      this.started.push({ name: 'postgres', stop: () => pg.stop() });
      this.rows.push({ component: 'postgres', address: pg.embedded ? `127.0.0.1:${ports.postgres}` : redact(pg.serverUrl), notes: pg.embedded ? `data in ${paths.pgData}` : 'external (STRANGLER_PG_URL)' });
      if (planFile) {
        // The user's monolith, services and databases must be up and fit before the toolkit starts in front of them.
        this.options.log('checking the plan…');
        const failing = (await checkPlan(plan, { serverUrl: pg.serverUrl })).filter((r) => !r.ok);
        if (failing.length) {
          const more = failing.length > 1 ? ` (and ${failing.length - 1} more: strangler plan check --plan ${this.options.planFile})` : '';
          throw new StackError(`plan check failed: ${formatCheck(failing[0])}${more}`);
        }
      }

      this.options.log('starting unleash and kafka…');
      const tokens = defaultUnleashTokens(secrets.unleashSecret);
      const unleashLog = logStream(path.join(paths.logs, 'unleash.log'));
      const kafkaLog = logStream(path.join(paths.logs, 'kafka.log'));
      const [unleash, kafka] = await Promise.allSettled([
        pg.database('unleash').then((databaseUrl) =>
          startUnleash({ databaseUrl, port: ports.unleash, ...tokens, onLog: (l) => unleashLog.write(`${l}\n`) }),
        ),
        externalKafka
          ? Promise.resolve(undefined)
          : startKafkaBroker({ dataDir: paths.kafkaData, port: ports.kafka, controllerPort: ports.kafkaController, onLog: (l) => kafkaLog.write(`${l}\n`) }),
      ]);
      if (unleash.status === 'fulfilled') this.started.push({ name: 'unleash', stop: () => unleash.value.stop() });
      if (kafka.status === 'fulfilled' && kafka.value) {
        const broker = kafka.value;
        this.started.push({ name: 'kafka', stop: () => broker.stop() });
      }
      if (unleash.status === 'rejected') throw new StackError(`unleash failed to start: ${firstLine(unleash.reason)}`);
      if (kafka.status === 'rejected') {
        const err = kafka.reason as Error;
        throw new StackError(err instanceof KafkaLauncherError ? err.message : `kafka failed to start: ${firstLine(err)}`);
      }
      const kafkaBrokers = externalKafka ?? (kafka.status === 'fulfilled' && kafka.value ? kafka.value.brokers : '');
      this.rows.push({ component: 'unleash', address: unleash.value.url, notes: `UI login ${UNLEASH_UI_LOGIN.user} / ${UNLEASH_UI_LOGIN.password}` });
      this.rows.push({ component: 'kafka', address: kafkaBrokers, notes: externalKafka ? 'external (KAFKA_BROKERS)' : `KRaft, data in ${paths.kafkaData}` });

      const addresses: StackAddresses = {
        urls: {},
        kafkaBrokers,
        unleashUrl: unleash.value.url,
        unleashClientToken: tokens.clientToken,
        unleashAdminToken: tokens.adminToken,
        adminToken: secrets.adminToken,
        internalSecret: secrets.internalSecret,
        home: paths.home,
        workshop: Boolean(this.options.workshop),
      };
      const components = planFile ? toolkitComponents(ports, { planFile }) : appComponents(ports);
      await this.createFlags(unleash.value.url, tokens.adminToken, Object.keys(plan.contexts));
      const pids: Record<string, number | undefined> = {};
      for (const spec of components) {
        this.options.log(`starting ${spec.name}…`);
        const env: Record<string, string> = { PORT: String(spec.port), ...(spec.env?.(addresses) ?? {}) };
        if (spec.database) env[spec.databaseEnv ?? 'DATABASE_URL'] = await pg.database(spec.database);
        const logFile = path.join(paths.logs, `${spec.name}.log`);
        const component = new Component({ name: spec.name, entry: spec.entry, env, healthUrl: `http://127.0.0.1:${spec.port}${spec.name === 'facade' ? '/_strangler/health' : '/health'}`, logFile }, this.options.onComponentEvent);
        this.started.push({ name: spec.name, stop: () => component.stop() });
        await component.start().catch((err: Error) => {
          throw new StackError(err.message);
        });
        pids[spec.name] = component.pid;
        addresses.urls[spec.name] = `http://127.0.0.1:${spec.port}`;
        this.rows.push({ component: spec.name, address: addresses.urls[spec.name], notes: `logs: ${path.relative(process.cwd(), logFile)}` });
      }

      this.state = {
        startedAt: new Date().toISOString(),
        pid: process.pid,
        components: this.rows.map((r) => ({ name: r.component, url: r.address, pid: pids[r.component] })),
        facadeUrl: addresses.urls.facade,
        cdcUrl: addresses.urls.cdc,
        adminToken: secrets.adminToken,
        unleash: { url: unleash.value.url, adminToken: tokens.adminToken, clientToken: tokens.clientToken, login: UNLEASH_UI_LOGIN },
        kafkaBrokers,
        postgresUrl: pg.serverUrl,
        // The CLI takes the stage lock and writes the stage history there, like the facade.
        facadeDatabaseUrl: await pg.database('facade'),
        // The other commands read the same plan (unless STRANGLER_PLAN says otherwise).
        plan: planFile ?? DEFAULT_PLAN_PATH,
        planEnv: planVariables(planFile ?? DEFAULT_PLAN_PATH, { ...process.env, ...components.find((c) => c.name === 'facade')?.env?.(addresses) }),
        contexts: Object.keys(plan.contexts),
        // `strangler workshop fault|bug` refuse to run unless the stack was started for a workshop.
        workshop: Boolean(this.options.workshop),
      };
      writeStackState(this.state, paths.home);
      return this.state;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The strangler flags exist from the start (off = monolith stage), so Unleash's UI lists every context. */
  private async createFlags(url: string, adminToken: string, contexts: string[]): Promise<void> {
    const admin = new UnleashAdminClient({ url, adminToken });
    for (const ctx of contexts) for (const name of Object.values(flagNames(ctx))) await admin.ensureFlag(name);
  }

  private async checkPorts(ports: StackPorts, external: { externalPg: boolean; externalKafka: boolean; toolkitOnly: boolean }): Promise<void> {
    for (const [key, port] of Object.entries(ports) as [keyof StackPorts, number][]) {
      if (external.toolkitOnly && !(key in TOOLKIT_PORTS)) continue;
      if (key === 'postgres' && external.externalPg) continue;
      if ((key === 'kafka' || key === 'kafkaController') && external.externalKafka) continue;
      if (await isPortTaken(port)) throw new StackError(new PortTakenError(`${key} (${PORT_ENV[key]})`, port).message);
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const s = this.started.pop()!;
      this.options.log(`stopping ${s.name}`);
      await s.stop().catch((err: unknown) => this.options.log(`  ${s.name}: ${firstLine(err)}`));
    }
    fs.rmSync(this.paths.stateFile, { force: true });
  }
}

/**
 * The values the plan's `${VAR}`s had when the stack started — the stack's environment and what it gave the facade
 * (the shop's service URLs, moved with their ports): the other commands (status, demo, load, in another terminal) read
 * the plan with them, so they reach the same monolith and databases as the facade and the worker.
 */
function planVariables(file: string, env: Record<string, string | undefined>): Record<string, string> {
  const names = new Set([...fs.readFileSync(file, 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
  return Object.fromEntries([...names].filter((n) => env[n]).map((n) => [n, env[n] as string]));
}

function loadStackPlan(planFile: string | undefined): Plan {
  try {
    return loadPlan(planFile ?? DEFAULT_PLAN_PATH);
  } catch (err) {
    throw new StackError((err as Error).message);
  }
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0];
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
