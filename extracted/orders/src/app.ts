import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createServiceApp } from '../../../lib/http/app';
import type { Workshop } from '../../../lib/http/workshop';
import type { Logger } from '../../../lib/logger';
import { DEFAULTS } from './config';
import { ordersController } from './orders/orders.controller';
import { OrdersService, type OrderFaults } from './orders/orders.service';
import { OrdersStore } from './orders/orders.store';
import { PaymentsClient, type BreakerOptions, type PaymentsClientOptions } from './orders/payments.client';
import { UsersClient, type UsersClientOptions } from './orders/users.client';
import { OutboxStore } from './outbox/outbox.store';

export interface OrdersServiceApp {
  app: Express;
  services: { orders: OrdersService };
  payments: PaymentsClient;
  /** Stops the breaker's timers; the caller closes the server and the database. */
  close(): void;
}

export interface OrdersServiceDeps {
  sequelize: Sequelize;
  logger: Logger;
  users?: Partial<UsersClientOptions>;
  payments?: Partial<Omit<PaymentsClientOptions, 'breaker'>> & { breaker?: Partial<BreakerOptions> };
  /** Topic the outbox events are written for (default `shop.orders.events`). */
  topic?: string;
  faults?: OrderFaults;
  /** Verifies dry runs reaching orders and signs its calls to payments' internal routes. */
  internalSecret?: string;
  /** Run-time faults (workshop mode only). */
  workshop?: Workshop;
}

export function createOrdersService(deps: OrdersServiceDeps): OrdersServiceApp {
  const users = new UsersClient({
    url: deps.users?.url ?? DEFAULTS.usersUrl,
    timeoutMs: deps.users?.timeoutMs ?? DEFAULTS.usersTimeoutMs,
    retries: deps.users?.retries ?? DEFAULTS.usersRetries,
  });
  const payments = new PaymentsClient(
    {
      url: deps.payments?.url ?? DEFAULTS.paymentsUrl,
      timeoutMs: deps.payments?.timeoutMs ?? DEFAULTS.paymentsTimeoutMs,
      retries: deps.payments?.retries ?? DEFAULTS.paymentsRetries,
      breaker: {
        resetMs: deps.payments?.breaker?.resetMs ?? DEFAULTS.breakerResetMs,
        errorPercent: deps.payments?.breaker?.errorPercent ?? DEFAULTS.breakerErrorPercent,
        volume: deps.payments?.breaker?.volume ?? DEFAULTS.breakerVolume,
        windowMs: deps.payments?.breaker?.windowMs ?? DEFAULTS.breakerWindowMs,
      },
    },
    deps.logger,
    deps.internalSecret,
  );
  const orders = new OrdersService(
    deps.sequelize,
    new OrdersStore(deps.sequelize),
    new OutboxStore(deps.sequelize),
    users,
    payments,
    deps.topic ?? DEFAULTS.eventsTopic,
    deps.faults,
  );
  const app = createServiceApp({
    logger: deps.logger,
    // Only our own database: reads keep working while users, payments or Kafka are down.
    health: async () => {
      await deps.sequelize.query('SELECT 1');
    },
    routers: [ordersController(orders)],
    internalSecret: deps.internalSecret,
    workshop: deps.workshop,
  });
  return { app, services: { orders }, payments, close: () => payments.shutdown() };
}
