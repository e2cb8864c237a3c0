import { z } from 'zod';

// Byte-for-byte the monolith's validation: the contract includes which inputs are rejected.
// Bounds keep every total below 2^53 so money stays exact as a JSON number: 50 × 100 000 × 10^9 < 9×10^15.
export const MAX_QUANTITY = 100_000;
export const MAX_UNIT_PRICE_CENTS = 1_000_000_000;

const item = z.object({
  sku: z.string().trim().min(1, 'must not be empty').max(100),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  unitPriceCents: z.number().int().min(0).max(MAX_UNIT_PRICE_CENTS),
});

export const placeOrderBody = z.object({
  userId: z.number().int().min(1).max(2_147_483_647),
  items: z.array(item).min(1, 'an order has 1 to 50 items').max(50, 'an order has 1 to 50 items'),
});

export type PlaceOrderInput = z.infer<typeof placeOrderBody>;
export type OrderItem = z.infer<typeof item>;
