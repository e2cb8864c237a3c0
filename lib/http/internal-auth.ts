import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { optionalString } from '../config';
import { SHADOW_HEADER, SIGNATURE_HEADER } from './dry-run';
import { errorBody } from './errors';

/**
 * Calls between the toolkit's own processes (the facade's shadow mirror, orders → payments) carry a signature: an
 * HMAC-SHA256 of the request id under a secret the stack gives the facade and every service
 * (`STRANGLER_INTERNAL_SECRET`). The secret itself never travels, and a signature is good for one request id only.
 */
export const INTERNAL_SECRET_ENV = 'STRANGLER_INTERNAL_SECRET';
const REQUEST_ID = 'x-request-id';
/** Express matches routes case-insensitively, so `/Internal/…` reaches the same handlers. */
const INTERNAL_PATH = /^\/internal(?:\/|$)/i;

/** The config field every process reads the secret from. */
export const internalSecret = () => optionalString().pipe(z.string().min(16, 'must be at least 16 characters').optional());

const sign = (secret: string, requestId: string) => createHmac('sha256', secret).update(`strangler-internal.v1\n${requestId}`).digest('base64url');

/** Headers that make a call signed: its request id and the signature of that id. */
export function internalHeaders(secret: string | undefined, requestId: string): Record<string, string> {
  return secret ? { [REQUEST_ID]: requestId, [SIGNATURE_HEADER]: sign(secret, requestId) } : { [REQUEST_ID]: requestId };
}

/** Whether the request carries a valid signature of its own request id (constant-time). */
export function isSigned(headers: IncomingHttpHeaders, secret: string | undefined): boolean {
  const id = headers[REQUEST_ID];
  const given = headers[SIGNATURE_HEADER];
  if (!secret || typeof id !== 'string' || id.length === 0 || typeof given !== 'string') return false;
  const expected = Buffer.from(sign(secret, id));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A dry run (`x-strangler-shadow`) and the `/internal/*` routes are for the toolkit's own callers. Unsigned, they
 * are refused with 401 rather than served as ordinary requests: a facade with a wrong secret would otherwise turn
 * every mirrored write into a real second write.
 */
export function requireInternalAuth(secret: string | undefined): RequestHandler {
  return (req, res, next) => {
    const guarded = req.headers[SHADOW_HEADER] !== undefined || INTERNAL_PATH.test(req.path);
    if (!guarded || isSigned(req.headers, secret)) {
      next();
      return;
    }
    const why = secret ? `needs a valid ${SIGNATURE_HEADER}` : `is refused: this process has no ${INTERNAL_SECRET_ENV}`;
    res.status(401).json(errorBody('unauthorized', `a dry run (${SHADOW_HEADER}) or an /internal/ route ${why}`));
  };
}
