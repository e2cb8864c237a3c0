import { Router } from 'express';
import { parseId } from '../../../../lib/http/errors';
import { validate } from '../../../../lib/http/validate';
import { listPaymentsQuery } from './payments.schema';
import type { PaymentsService } from './payments.service';

/** The public contract, exactly the monolith's. */
export function paymentsController(payments: PaymentsService): Router {
  const router = Router();
  router.get('/api/payments', async (req, res) => {
    res.json(await payments.listForOrder(validate(listPaymentsQuery, req.query, 'query').orderId));
  });
  router.get('/api/payments/:id', async (req, res) => {
    res.json(await payments.get(parseId(req.params.id, 'payment')));
  });
  return router;
}
