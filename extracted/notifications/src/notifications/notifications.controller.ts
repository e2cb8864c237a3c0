import { Router } from 'express';
import { z } from 'zod';
import { validate } from '../../../../lib/http/validate';
import type { NotificationsService } from './notifications.service';

// Byte-for-byte the monolith's validation: the contract includes which inputs are rejected.
const listQuery = z.object({ userId: z.coerce.number().int().min(1).max(2_147_483_647) });

export function notificationsController(notifications: NotificationsService): Router {
  const router = Router();
  router.get('/api/notifications', async (req, res) => {
    res.json(await notifications.listForUser(validate(listQuery, req.query, 'query').userId));
  });
  return router;
}
