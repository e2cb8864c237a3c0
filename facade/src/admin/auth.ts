import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { errorBody } from '../../../lib/http/errors';

/** The dashboard's session cookie, scoped to the admin prefix so the proxied shop never sees it. */
export const SESSION_COOKIE = 'strangler_session';
export const SESSION_PATH = '/_strangler';
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
/**
 * A header a cross-site HTML form cannot send (and a cross-site fetch can only send after a CORS preflight this
 * API never approves): a state-changing request authenticated by the cookie alone must carry it.
 */
export const CSRF_HEADER = 'x-strangler-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const digest = (s: string) => createHash('sha256').update(s).digest();

export type AdminCredential = 'bearer' | 'cookie';

export interface AdminAuth {
  /** Constant-time comparison with the admin token (the login form's input). */
  tokenMatches(given: unknown): boolean;
  /** How the request proves it is the admin, if it does. */
  credential(req: Request): AdminCredential | undefined;
  /** A `Set-Cookie` value for a fresh session. */
  sessionCookie(secure: boolean): string;
  /** A `Set-Cookie` value that removes the session. */
  clearCookie(secure: boolean): string;
}

/** Reads one cookie from a `Cookie` header; no dependency for a single name. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The admin token as Bearer (CLI, scripts) or as the dashboard's session cookie. The cookie holds an expiry and an
 * HMAC of it keyed by the token — never the token — so it is stateless (every facade instance accepts it), expires
 * on its own, and stops working the moment the token is rotated.
 */
export function adminAuth(token: string, now: () => number = Date.now): AdminAuth {
  const expected = digest(token);
  const mac = (expires: number) => createHmac('sha256', token).update(`strangler-dashboard-session.v1.${expires}`).digest('base64url');
  const attributes = (maxAge: number, secure: boolean) => `Path=${SESSION_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

  const tokenMatches = (given: unknown) => typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(given), expected);

  const validSession = (value: string | undefined): boolean => {
    const m = value ? /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!m) return false;
    const expires = Number(m[1]);
    const nowSeconds = Math.floor(now() / 1000);
    if (expires <= nowSeconds || expires > nowSeconds + SESSION_TTL_SECONDS) return false;
    return timingSafeEqual(Buffer.from(m[2]), Buffer.from(mac(expires)));
  };

  return {
    tokenMatches,
    credential(req) {
      const header = req.headers.authorization;
      if (typeof header === 'string' && header.startsWith('Bearer ')) return tokenMatches(header.slice(7)) ? 'bearer' : undefined;
      return validSession(readCookie(req.headers.cookie, SESSION_COOKIE)) ? 'cookie' : undefined;
    },
    sessionCookie(secure) {
      const expires = Math.floor(now() / 1000) + SESSION_TTL_SECONDS;
      return `${SESSION_COOKIE}=${expires}.${mac(expires)}; ${attributes(SESSION_TTL_SECONDS, secure)}`;
    },
    clearCookie(secure) {
      return `${SESSION_COOKIE}=; ${attributes(0, secure)}`;
    },
  };
}

/**
 * `Authorization: Bearer <STRANGLER_ADMIN_TOKEN>`, or the dashboard's session cookie; a state-changing request on
 * the cookie must also carry `x-strangler-csrf: 1`.
 */
export function requireAdmin(auth: AdminAuth | string): RequestHandler {
  const a = typeof auth === 'string' ? adminAuth(auth) : auth;
  return (req, res, next) => {
    const credential = a.credential(req);
    if (credential === 'bearer' || (credential === 'cookie' && (SAFE_METHODS.has(req.method) || req.headers[CSRF_HEADER] === '1'))) {
      next();
      return;
    }
    if (credential === 'cookie') {
      res.status(403).json(errorBody('csrf_required', `a state-changing request with the session cookie must send the header ${CSRF_HEADER}: 1`));
      return;
    }
    res.setHeader('www-authenticate', 'Bearer realm="strangler"');
    res.status(401).json(errorBody('unauthorized', 'admin token required: Authorization: Bearer $STRANGLER_ADMIN_TOKEN (or log in at /_strangler/)'));
  };
}
