import { z } from 'zod';

const id = z.number().int().min(1).max(2_147_483_647);
// Order totals are bounded far below 2^53 by the orders contract; this keeps money exact as a JSON number.
const cents = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Amounts above this are declined by the (simulated) payment provider: the monolith's rule. */
export const DECLINE_ABOVE_CENTS = 100_000;

export const listPaymentsQuery = z.object({ orderId: z.coerce.number().int().min(1).max(2_147_483_647) });

/** The decline line is the provider's rule, not the caller's: a `limitCents` in the body is ignored like any unknown key. */
export const captureBody = z.object({
  orderId: id,
  amountCents: cents,
});

export type CaptureInput = z.infer<typeof captureBody>;

export const IDEMPOTENCY_HEADER = 'idempotency-key';

export const captureHeaders = z.object({
  [IDEMPOTENCY_HEADER]: z
    .string({ error: 'required: one key per capture, sent again unchanged on every retry' })
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces'),
});
