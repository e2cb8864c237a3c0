import { Router } from 'express';
import { z } from 'zod';
import { parseId } from '../../../lib/http/errors';
import { validate } from '../../../lib/http/validate';
import type { PaymentsService } from './payments.service';

const listQuery = z.object({ orderId: z.coerce.number().int().min(1).max(2_147_483_647) });

export function paymentsController(payments: PaymentsService): Router {
  const router = Router();
  router.get('/api/payments', async (req, res) => {
    res.json(await payments.listForOrder(validate(listQuery, req.query, 'query').orderId));
  });
  router.get('/api/payments/:id', async (req, res) => {
    res.json(await payments.get(parseId(req.params.id, 'payment')));
  });
  return router;
}
