/**
 * What `strangler up` runs, in start order (stopped in reverse). Each application component owns at most one
 * database on the stack's Postgres and runs in its own process; its environment is built from what started
 * before it. The contexts' URLs are handed to the facade through the plan's `${<CONTEXT>_URL}` variables.
 */
export interface AppComponent {
  name: string;
  entry: string;
  port: number;
  database?: string;
  /** The variable that carries the database URL (default DATABASE_URL). */
  databaseEnv?: string;
  env?: (stack: StackAddresses) => Record<string, string>;
}

export interface StackAddresses {
  urls: Record<string, string>;
  kafkaBrokers: string;
  unleashUrl: string;
  unleashClientToken: string;
  unleashAdminToken: string;
  adminToken: string;
  /** Signs the facade's dry runs and orders' calls to payments; every service verifies it (lib/http/internal-auth). */
  internalSecret: string;
  home: string;
}

export const DEFAULT_PORTS = {
  postgres: 5433,
  unleash: 4242,
  kafka: 9092,
  kafkaController: 9093,
  monolith: 3000,
  users: 3101,
  orders: 3102,
  payments: 3103,
  notifications: 3104,
  cdc: 8083,
  facade: 8080,
} as const;

export type StackPorts = { -readonly [K in keyof typeof DEFAULT_PORTS]: number };

/** Every port can be moved with an env var: `STRANGLER_PG_PORT`, `UNLEASH_PORT`, `KAFKA_PORT`, `USERS_PORT`, … */
export const PORT_ENV: Record<keyof StackPorts, string> = {
  postgres: 'STRANGLER_PG_PORT',
  unleash: 'UNLEASH_PORT',
  kafka: 'KAFKA_PORT',
  kafkaController: 'KAFKA_CONTROLLER_PORT',
  monolith: 'MONOLITH_PORT',
  users: 'USERS_PORT',
  orders: 'ORDERS_PORT',
  payments: 'PAYMENTS_PORT',
  notifications: 'NOTIFICATIONS_PORT',
  cdc: 'CDC_PORT',
  facade: 'FACADE_PORT',
};

const internal = (s: StackAddresses) => ({ STRANGLER_INTERNAL_SECRET: s.internalSecret });

export function appComponents(ports: StackPorts): AppComponent[] {
  return [
    { name: 'monolith', entry: 'monolith/src/main.ts', port: ports.monolith, database: 'monolith' },
    // A service asks another context through the facade, so whichever side owns that context at its current stage
    // answers (before orders is extracted, only the monolith knows a user's orders). Payments' internal API is not a
    // public route, so orders calls it directly.
    { name: 'users', entry: 'extracted/users/src/main.ts', port: ports.users, database: 'users', env: (s) => ({ ORDERS_URL: `http://127.0.0.1:${ports.facade}`, ...internal(s) }) },
    { name: 'payments', entry: 'extracted/payments/src/main.ts', port: ports.payments, database: 'payments', env: internal },
    {
      name: 'orders',
      entry: 'extracted/orders/src/main.ts',
      port: ports.orders,
      database: 'orders',
      env: (s) => ({ USERS_URL: `http://127.0.0.1:${ports.facade}`, PAYMENTS_URL: s.urls.payments, KAFKA_BROKERS: s.kafkaBrokers, ...internal(s) }),
    },
    { name: 'notifications', entry: 'extracted/notifications/src/main.ts', port: ports.notifications, database: 'notifications', env: (s) => ({ KAFKA_BROKERS: s.kafkaBrokers, ...internal(s) }) },
    {
      name: 'cdc',
      entry: 'migrations/cdc/worker/main.ts',
      port: ports.cdc,
      database: 'cdc',
      databaseEnv: 'CDC_DATABASE_URL',
      env: (s) => ({ KAFKA_BROKERS: s.kafkaBrokers, STRANGLER_ADMIN_TOKEN: s.adminToken }),
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
        MONOLITH_URL: s.urls.monolith,
        USERS_URL: s.urls.users,
        ORDERS_URL: s.urls.orders,
        PAYMENTS_URL: s.urls.payments,
        NOTIFICATIONS_URL: s.urls.notifications,
        STRANGLER_CDC_URL: s.urls.cdc,
        ...internal(s),
      }),
    },
  ];
}
