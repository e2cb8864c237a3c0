import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { errorBody } from '../../../lib/http/errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <STRANGLER_ADMIN_TOKEN>`; compared in constant time. */
export function requireAdmin(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), expected)) {
      next();
      return;
    }
    res.setHeader('www-authenticate', 'Bearer realm="strangler"');
    res.status(401).json(errorBody('unauthorized', 'admin token required: Authorization: Bearer $STRANGLER_ADMIN_TOKEN'));
  };
}
