import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createServiceApp } from '../../../lib/http/app';
import type { Workshop } from '../../../lib/http/workshop';
import type { Logger } from '../../../lib/logger';
import { notificationsController } from './notifications/notifications.controller';
import { NotificationsService } from './notifications/notifications.service';
import { NotificationsStore } from './notifications/notifications.store';

export interface NotificationsServiceApp {
  app: Express;
  services: { notifications: NotificationsService };
}

export function createNotificationsService(deps: { sequelize: Sequelize; logger: Logger; internalSecret?: string; workshop?: Workshop }): NotificationsServiceApp {
  const notifications = new NotificationsService(new NotificationsStore(deps.sequelize));
  const app = createServiceApp({
    logger: deps.logger,
    // Only our own database: reads keep working while Kafka is down (notifications then arrive late).
    health: async () => {
      await deps.sequelize.query('SELECT 1');
    },
    routers: [notificationsController(notifications)],
    internalSecret: deps.internalSecret,
    workshop: deps.workshop,
  });
  return { app, services: { notifications } };
}
