import { Router } from 'express';
import { parseId } from '../../../../lib/http/errors';
import { validate } from '../../../../lib/http/validate';
import { callContext } from './call-context';
import { placeOrderBody } from './orders.schema';
import type { OrdersService } from './orders.service';

export function ordersController(orders: OrdersService): Router {
  const router = Router();
  router.post('/api/orders', async (req, res) => {
    res.status(201).json(await orders.place(validate(placeOrderBody, req.body), callContext(req)));
  });
  router.get('/api/orders/:id', async (req, res) => {
    res.json(await orders.get(parseId(req.params.id, 'order')));
  });
  router.post('/api/orders/:id/cancel', async (req, res) => {
    res.json(await orders.cancel(parseId(req.params.id, 'order'), callContext(req)));
  });
  router.get('/api/users/:id/orders', async (req, res) => {
    res.json(await orders.listForUser(parseId(req.params.id, 'user')));
  });
  return router;
}
