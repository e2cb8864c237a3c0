import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createServiceApp } from '../../lib/http/app';
import type { Logger } from '../../lib/logger';
import { defineModels } from './db/models';
import { notificationsController } from './notifications/notifications.controller';
import { NotificationsService } from './notifications/notifications.service';
import { ordersController } from './orders/orders.controller';
import { OrdersService, type OrderFaults } from './orders/orders.service';
import { paymentsController } from './payments/payments.controller';
import { PaymentsService } from './payments/payments.service';
import { usersController } from './users/users.controller';
import { UsersService } from './users/users.service';

export interface Monolith {
  app: Express;
  services: { users: UsersService; orders: OrdersService; payments: PaymentsService; notifications: NotificationsService };
}

export function createMonolith(deps: { sequelize: Sequelize; logger: Logger; faults?: OrderFaults }): Monolith {
  const models = defineModels(deps.sequelize);
  const users = new UsersService(deps.sequelize, models);
  const payments = new PaymentsService(models);
  const notifications = new NotificationsService(deps.sequelize, models);
  const orders = new OrdersService(deps.sequelize, models, payments, notifications, deps.faults);
  const app = createServiceApp({
    logger: deps.logger,
    health: async () => {
      await deps.sequelize.query('SELECT 1');
    },
    routers: [usersController(users), ordersController(orders), paymentsController(payments), notificationsController(notifications)],
  });
  return { app, services: { users, orders, payments, notifications } };
}
