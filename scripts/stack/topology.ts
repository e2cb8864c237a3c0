import type { AppComponent, StackAddresses } from './app-component';
import { SHOP_PORT_ENV, SHOP_PORTS, shopComponents, shopFacadeEnv } from './shop';

export type { AppComponent, StackAddresses } from './app-component';

/**
 * What `strangler up` runs, in start order (stopped in reverse). Each application component owns at most one
 * database on the stack's Postgres and runs in its own process; its environment is built from what started
 * before it. The toolkit's own parts (the CDC worker and the facade) are the same with or without a plan; the shop
 * demo adds its monolith and services in front of them (`./shop.ts`).
 */

/** The toolkit's own ports; `up --plan` needs only these. */
export const TOOLKIT_PORTS = {
  postgres: 5433,
  unleash: 4242,
  kafka: 9092,
  kafkaController: 9093,
  cdc: 8083,
  facade: 8080,
} as const;

export const DEFAULT_PORTS = { ...TOOLKIT_PORTS, ...SHOP_PORTS } as const;

export type StackPorts = { -readonly [K in keyof typeof DEFAULT_PORTS]: number };

export const TOOLKIT_PORT_ENV: Record<keyof typeof TOOLKIT_PORTS, string> = {
  postgres: 'STRANGLER_PG_PORT',
  unleash: 'UNLEASH_PORT',
  kafka: 'KAFKA_PORT',
  kafkaController: 'KAFKA_CONTROLLER_PORT',
  cdc: 'CDC_PORT',
  facade: 'FACADE_PORT',
};

/** Every port can be moved with an env var: `STRANGLER_PG_PORT`, `UNLEASH_PORT`, `KAFKA_PORT`, `FACADE_PORT`, … */
export const PORT_ENV: Record<keyof StackPorts, string> = { ...TOOLKIT_PORT_ENV, ...SHOP_PORT_ENV };

/**
 * The CDC worker and the facade. With a plan file both read it (absolute path, so the processes' working directory
 * does not matter); `facadeEnv` adds what that plan's `${VAR}`s need — nothing for a user's plan, whose URLs are its
 * own.
 */
export function toolkitComponents(ports: StackPorts, options: { planFile?: string; facadeEnv?: (s: StackAddresses) => Record<string, string> } = {}): AppComponent[] {
  const plan: Record<string, string> = options.planFile ? { STRANGLER_PLAN: options.planFile } : {};
  return [
    {
      name: 'cdc',
      entry: 'migrations/cdc/worker/main.ts',
      port: ports.cdc,
      database: 'cdc',
      databaseEnv: 'CDC_DATABASE_URL',
      env: (s) => ({ KAFKA_BROKERS: s.kafkaBrokers, STRANGLER_ADMIN_TOKEN: s.adminToken, ...plan }),
    },
    {
      name: 'facade',
      entry: 'facade/src/main.ts',
      port: ports.facade,
      database: 'facade',
      databaseEnv: 'FACADE_DATABASE_URL',
      env: (s) => ({
        STRANGLER_ADMIN_TOKEN: s.adminToken,
        UNLEASH_URL: s.unleashUrl,
        UNLEASH_CLIENT_TOKEN: s.unleashClientToken,
        UNLEASH_ADMIN_TOKEN: s.unleashAdminToken,
        UNLEASH_BACKUP_DIR: `${s.home}/facade`,
        ...(options.facadeEnv?.(s) ?? {}),
        STRANGLER_CDC_URL: s.urls.cdc,
        STRANGLER_INTERNAL_SECRET: s.internalSecret,
        ...plan,
      }),
    },
  ];
}

/** The shop demo: its monolith and services, then the toolkit's parts pointed at them. */
export function appComponents(ports: StackPorts): AppComponent[] {
  return [...shopComponents(ports), ...toolkitComponents(ports, { facadeEnv: shopFacadeEnv })];
}
