import type { Express } from 'express';
import type { Sequelize } from 'sequelize';
import { createServiceApp } from '../../../lib/http/app';
import type { Workshop } from '../../../lib/http/workshop';
import type { Logger } from '../../../lib/logger';
import { paymentsController } from './payments/payments.controller';
import { paymentsInternalController } from './payments/payments.internal.controller';
import { PaymentsService } from './payments/payments.service';
import { PaymentsStore } from './payments/payments.store';

export interface PaymentsServiceApp {
  app: Express;
  services: { payments: PaymentsService };
}

export function createPaymentsService(deps: { sequelize: Sequelize; logger: Logger; internalSecret?: string; workshop?: Workshop }): PaymentsServiceApp {
  const payments = new PaymentsService(deps.sequelize, new PaymentsStore(deps.sequelize), (bug) => deps.workshop?.bug(bug) ?? false);
  const app = createServiceApp({
    logger: deps.logger,
    health: async () => {
      await deps.sequelize.query('SELECT 1');
    },
    routers: [paymentsController(payments), paymentsInternalController(payments)],
    internalSecret: deps.internalSecret,
    workshop: deps.workshop,
  });
  return { app, services: { payments } };
}
