import type { AppComponent, StackAddresses } from './app-component';

/**
 * The shop demo's own part of `strangler up` (without `--plan`): the sample monolith and its four extracted
 * services, their ports, and the URLs the shop's plan reads from the environment. Nothing else in the toolkit
 * knows the shop's contexts.
 */
export const SHOP_PORTS = { monolith: 3000, users: 3101, orders: 3102, payments: 3103, notifications: 3104 } as const;

export const SHOP_PORT_ENV: Record<keyof typeof SHOP_PORTS, string> = {
  monolith: 'MONOLITH_PORT',
  users: 'USERS_PORT',
  orders: 'ORDERS_PORT',
  payments: 'PAYMENTS_PORT',
  notifications: 'NOTIFICATIONS_PORT',
};

type ShopPorts = { [K in keyof typeof SHOP_PORTS]: number } & { facade: number };

/** Dry runs and orders → payments calls are signed with the stack's secret, which every service checks. */
const internal = (s: StackAddresses) => ({
  STRANGLER_INTERNAL_SECRET: s.internalSecret,
  // Workshop mode: faults and planted bugs switch at run time behind the admin token (lib/http/workshop).
  ...(s.workshop ? { STRANGLER_WORKSHOP: '1', STRANGLER_ADMIN_TOKEN: s.adminToken } : {}),
});

export function shopComponents(ports: ShopPorts): AppComponent[] {
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
  ];
}

/** The shop plan's `${…_URL}` variables, pointing at the components above. */
export function shopFacadeEnv(s: StackAddresses): Record<string, string> {
  return {
    MONOLITH_URL: s.urls.monolith,
    USERS_URL: s.urls.users,
    ORDERS_URL: s.urls.orders,
    PAYMENTS_URL: s.urls.payments,
    NOTIFICATIONS_URL: s.urls.notifications,
  };
}
