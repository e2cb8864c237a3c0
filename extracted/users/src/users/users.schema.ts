import { z } from 'zod';
import { normalizeEmail } from '../../../../lib/text/email';

// Byte-for-byte the monolith's validation: the contract includes which inputs are rejected.
const email = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'must be an email address')
  .transform(normalizeEmail);
const name = z.string().trim().min(1, 'must not be empty').max(200);

export const createUserBody = z.object({ email, name });
export const updateUserBody = z.object({ email: email.optional(), name: name.optional() });

export type CreateUserInput = z.infer<typeof createUserBody>;
export type UpdateUserInput = z.infer<typeof updateUserBody>;

export const listUsersQuery = z.object({
  email: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a cursor returned by a previous page')
    .optional(),
});

export type ListUsersQuery = z.infer<typeof listUsersQuery>;
