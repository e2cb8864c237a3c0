import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { errorBody } from '../../../lib/http/errors';
import { FailureBudget } from '../../../lib/http/failure-budget';

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
  /** Ends the request's session on the server too: its cookie is refused from now on, even if a copy was kept. */
  revoke(req: Request): void;
  /** Wrong tokens per client address (Bearer and the login form); past the budget, 429. */
  failures: FailureBudget;
}

/** The client's address: the connection's, or behind a trusted proxy (`trust proxy`) the one it reports. */
export const clientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? '';

/** 429 with `Retry-After` when the address has used up its failures; true when it did. */
export function tooManyFailures(auth: AdminAuth, req: Request, res: Response): boolean {
  const wait = auth.failures.retryAfter(clientAddress(req));
  if (wait === 0) return false;
  res.setHeader('retry-after', String(wait));
  res.status(429).json(errorBody('too_many_attempts', `too many wrong admin tokens from this address; retry in ${wait} s`));
  return true;
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
 * HMAC of it keyed by the token — never the token — so any facade instance accepts it, it expires on its own, and it
 * stops working the moment the token is rotated. Logging out revokes it on this facade: the revoked MACs are kept in
 * memory until their cookie would have expired anyway (a restart forgets them; rotating the token ends every session).
 */
export function adminAuth(token: string, now: () => number = Date.now, failures = new FailureBudget({ limit: 10, windowMs: 60_000 }, now)): AdminAuth {
  const expected = digest(token);
  // The nonce makes every login's cookie its own, so logging one session out leaves the others alone.
  const mac = (expires: number, nonce: string) => createHmac('sha256', token).update(`strangler-dashboard-session.v2.${expires}.${nonce}`).digest('base64url');
  const attributes = (maxAge: number, secure: boolean) => `Path=${SESSION_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

  const tokenMatches = (given: unknown) => typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(given), expected);

  const revoked = new Map<string, number>();
  /** The session's MAC and expiry when the cookie is genuine and current. */
  const session = (value: string | undefined): { mac: string; expires: number } | undefined => {
    const m = value ? /^(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!m) return undefined;
    const expires = Number(m[1]);
    const nowSeconds = Math.floor(now() / 1000);
    if (expires <= nowSeconds || expires > nowSeconds + SESSION_TTL_SECONDS) return undefined;
    if (!timingSafeEqual(Buffer.from(m[3]), Buffer.from(mac(expires, m[2])))) return undefined;
    return revoked.has(m[3]) ? undefined : { mac: m[3], expires };
  };
  const validSession = (value: string | undefined) => session(value) !== undefined;

  return {
    tokenMatches,
    credential(req) {
      const header = req.headers.authorization;
      if (typeof header === 'string' && header.startsWith('Bearer ')) return tokenMatches(header.slice(7)) ? 'bearer' : undefined;
      return validSession(readCookie(req.headers.cookie, SESSION_COOKIE)) ? 'cookie' : undefined;
    },
    sessionCookie(secure) {
      const expires = Math.floor(now() / 1000) + SESSION_TTL_SECONDS;
      const nonce = randomBytes(16).toString('base64url');
      return `${SESSION_COOKIE}=${expires}.${nonce}.${mac(expires, nonce)}; ${attributes(SESSION_TTL_SECONDS, secure)}`;
    },
    clearCookie(secure) {
      return `${SESSION_COOKIE}=; ${attributes(0, secure)}`;
    },
    revoke(req) {
      const s = session(readCookie(req.headers.cookie, SESSION_COOKIE));
      if (!s) return;
      const nowSeconds = Math.floor(now() / 1000);
      for (const [m, expires] of revoked) if (expires <= nowSeconds) revoked.delete(m);
      revoked.set(s.mac, s.expires);
    },
    failures,
  };
}

/**
 * `Authorization: Bearer <STRANGLER_ADMIN_TOKEN>`, or the dashboard's session cookie; a state-changing request on
 * the cookie must also carry `x-strangler-csrf: 1`.
 */
export function requireAdmin(auth: AdminAuth | string): RequestHandler {
  const a = typeof auth === 'string' ? adminAuth(auth) : auth;
  return (req, res, next) => {
    const bearer = typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('Bearer ');
    if (bearer && tooManyFailures(a, req, res)) return;
    const credential = a.credential(req);
    if (bearer && credential !== 'bearer') a.failures.fail(clientAddress(req));
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
