import { Router } from 'express';
import { isDryRun } from '../../../../lib/http/dry-run';
import { parseId } from '../../../../lib/http/errors';
import { validate } from '../../../../lib/http/validate';
import { captureBody, captureHeaders, IDEMPOTENCY_HEADER } from './payments.schema';
import type { PaymentsService } from './payments.service';

/**
 * Service-to-service routes for the orders service; the facade never routes `/internal/*` to the public.
 * A first capture is 201; a retry with the same key is 200 with `Idempotent-Replayed: true` and the same payment.
 */
export function paymentsInternalController(payments: PaymentsService): Router {
  const router = Router();
  router.post('/internal/payments', async (req, res) => {
    const key = validate(captureHeaders, req.headers, 'headers')[IDEMPOTENCY_HEADER];
    const input = validate(captureBody, req.body);
    const { payment, replayed } = await payments.capture(key, input, isDryRun(req));
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    res.status(replayed ? 200 : 201).json(payment);
  });
  router.post('/internal/payments/:orderId/refund', async (req, res) => {
    res.json(await payments.refund(parseId(req.params.orderId, 'payment'), isDryRun(req)));
  });
  return router;
}
