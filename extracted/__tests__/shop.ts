import { freePort } from '../../lib/net/ports';
import type { ShopTarget } from '../../test/contract/target';
import { testKafkaBrokers } from '../../test/harness/kafka';
import { startTestNotificationsService, type TestNotificationsService } from '../notifications/testing';
import { startTestOrdersService, type TestOrdersOptions, type TestOrdersService } from '../orders/testing';
import { startTestPaymentsService, type TestPaymentsService } from '../payments/testing';
import { startTestUsersService, type TestUsersService } from '../users/testing';

export interface Shop {
  users: TestUsersService;
  payments: TestPaymentsService;
  orders: TestOrdersService;
  notifications: TestNotificationsService;
  target: ShopTarget;
  stop(): Promise<void>;
}

export interface ShopOptions {
  /** Extra options for the orders service; `paymentsUrl` puts something (a proxy) between orders and payments. */
  orders?: Omit<TestOrdersOptions, 'users' | 'kafkaBrokers' | 'port'>;
  paymentsUrl?: (realUrl: string) => string | Promise<string>;
  /** Partitions of the events topic (1 makes "a later event was handled" prove every earlier one was). */
  partitions?: number;
}

/**
 * The four extracted services wired to each other and to the run's Kafka broker, each over its own database.
 * The users service asks orders (DELETE) and orders asks users, so the orders port is reserved first.
 */
export async function startShop(options: ShopOptions = {}): Promise<Shop> {
  const brokers = testKafkaBrokers();
  const ordersPort = await freePort();
  const users = await startTestUsersService({ orders: { url: `http://127.0.0.1:${ordersPort}` } });
  const payments = await startTestPaymentsService();
  const paymentsUrl = options.paymentsUrl ? await options.paymentsUrl(payments.server.url) : payments.server.url;
  const orders = await startTestOrdersService({
    ...options.orders,
    port: ordersPort,
    partitions: options.partitions,
    kafkaBrokers: brokers,
    users: { url: users.server.url, timeoutMs: 2000 },
    payments: { url: paymentsUrl, ...options.orders?.payments },
  });
  const notifications = await startTestNotificationsService({ kafkaBrokers: brokers, topic: orders.topic, partitions: options.partitions });
  return {
    users,
    payments,
    orders,
    notifications,
    target: {
      name: 'extracted services',
      baseUrls: { users: users.server.url, orders: orders.server.url, payments: payments.server.url, notifications: notifications.server.url },
    },
    async stop() {
      // Everything is stopped even if one part fails; the first failure is reported afterwards.
      const results = [...(await Promise.allSettled([notifications.stop(), orders.stop()])), ...(await Promise.allSettled([users.stop(), payments.stop()]))];
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

async function count(sequelize: TestUsersService['sequelize'], table: string): Promise<number> {
  const [rows] = await sequelize.query(`SELECT count(*)::int AS n FROM ${table}`);
  return (rows[0] as { n: number }).n;
}

/** Rows in every table that an order touches, across the services' databases. */
export async function rowCounts(shop: Shop) {
  return {
    orders: await count(shop.orders.sequelize, 'orders'),
    outbox: await count(shop.orders.sequelize, 'outbox'),
    payments: await count(shop.payments.sequelize, 'payments'),
    idempotencyKeys: await count(shop.payments.sequelize, 'idempotency_keys'),
    notifications: await count(shop.notifications.sequelize, 'notifications'),
  };
}
