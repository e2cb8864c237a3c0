import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createServiceApp } from '../../../lib/http/app';
import type { Workshop } from '../../../lib/http/workshop';
import type { Logger } from '../../../lib/logger';
import { DEFAULT_ORDERS_TIMEOUT_MS, DEFAULT_ORDERS_URL } from './config';
import { OrdersClient, type OrdersClientOptions } from './users/orders.client';
import { usersController } from './users/users.controller';
import { UsersService } from './users/users.service';
import { UsersStore } from './users/users.store';

export interface UsersServiceApp {
  app: Express;
  services: { users: UsersService };
}

export interface UsersServiceDeps {
  sequelize: Sequelize;
  logger: Logger;
  /** Where to ask whether a user has orders (DELETE's 409); defaults to the local orders service. */
  orders?: Partial<OrdersClientOptions>;
  internalSecret?: string;
  /** Run-time faults and planted bugs (workshop mode only). */
  workshop?: Workshop;
}

export function createUsersService(deps: UsersServiceDeps): UsersServiceApp {
  const orders = new OrdersClient({
    url: deps.orders?.url ?? DEFAULT_ORDERS_URL,
    timeoutMs: deps.orders?.timeoutMs ?? DEFAULT_ORDERS_TIMEOUT_MS,
  });
  const users = new UsersService(deps.sequelize, new UsersStore(deps.sequelize), orders, (bug) => deps.workshop?.bug(bug) ?? false);
  const app = createServiceApp({
    logger: deps.logger,
    // Only our own database: the users service still answers reads and most writes while orders is down.
    health: async () => {
      await deps.sequelize.query('SELECT 1');
    },
    routers: [usersController(users)],
    internalSecret: deps.internalSecret,
    workshop: deps.workshop,
  });
  return { app, services: { users } };
}
