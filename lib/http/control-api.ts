import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { errorBody } from './errors';
import { FailureBudget } from './failure-budget';

export interface ControlApiOptions {
  /** The admin token every route but `openPaths` requires as `Authorization: Bearer …`. */
  token: string;
  /** Host names (without port) besides 127.0.0.1, localhost and [::1] that may be in `Host`. */
  allowedHosts?: string[];
  /** Paths answered without the checks: the health check. */
  openPaths?: string[];
  /**
   * Paths read without the token but still only under an allowed `Host`: Prometheus scrapes them like the facade's
   * open metrics, and a web page cannot read them through DNS rebinding.
   */
  tokenlessPaths?: string[];
  failures?: FailureBudget;
}

const LOCAL_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];
const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Host` without its port, lower-cased (`[::1]:8083` → `[::1]`). */
export function hostName(host: string | undefined): string {
  return (host ?? '').trim().toLowerCase().replace(/:\d*$/, '');
}

/**
 * Guards an HTTP API that changes the system (the CDC worker's): what a web page in a developer's browser could
 * otherwise reach on 127.0.0.1. A `Host` not on the list (DNS rebinding: evil.example resolving to 127.0.0.1) gets
 * 403; no admin token 401 (429 once an address has failed too often); a POST that is not `application/json` 415 — a
 * cross-site form or a "simple" fetch cannot send that type without a CORS preflight, which this API never approves.
 */
export function controlApi(options: ControlApiOptions): RequestHandler {
  const hosts = new Set([...LOCAL_HOSTS, ...(options.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean)]);
  const open = new Set(options.openPaths ?? ['/health']);
  const tokenless = new Set(options.tokenlessPaths ?? []);
  const expected = digest(options.token);
  const failures = options.failures ?? new FailureBudget();
  return (req, res, next) => {
    if (open.has(req.path)) {
      next();
      return;
    }
    if (!hosts.has(hostName(req.headers.host))) {
      res.status(403).json(errorBody('host_not_allowed', `Host ${JSON.stringify(req.headers.host ?? '')} is not one this API answers to (127.0.0.1, localhost or a configured name)`));
      return;
    }
    if (tokenless.has(req.path) && req.method === 'GET') {
      next();
      return;
    }
    const address = req.socket.remoteAddress ?? '';
    const wait = failures.retryAfter(address);
    if (wait > 0) {
      res.setHeader('retry-after', String(wait));
      res.status(429).json(errorBody('too_many_attempts', `too many failed tokens from this address; retry in ${wait} s`));
      return;
    }
    const header = req.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!given || !timingSafeEqual(digest(given), expected)) {
      if (given !== undefined) failures.fail(address);
      res.setHeader('www-authenticate', 'Bearer realm="strangler"');
      res.status(401).json(errorBody('unauthorized', 'admin token required: Authorization: Bearer $STRANGLER_ADMIN_TOKEN'));
      return;
    }
    if (req.method === 'POST' && !req.is('application/json')) {
      res.status(415).json(errorBody('unsupported_media_type', 'a POST must have Content-Type: application/json (send {} for no options)'));
      return;
    }
    next();
  };
}
