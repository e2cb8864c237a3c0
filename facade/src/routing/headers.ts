import type { IncomingMessage } from 'node:http';

/**
 * Not behind a proxy the facade trusts, a client's `X-Forwarded-*` and `Forwarded` say whatever the client likes:
 * the facade would append to them and the upstream would read a client-chosen address, host or scheme. Dropping
 * them makes `setForwardedHeaders` write fresh ones from the connection itself.
 */
export function dropForwardedHeaders(req: IncomingMessage): void {
  // rawHeaders: no key list allocated per request (the hot path); most requests have none of these.
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const first = name.charCodeAt(0) | 0x20;
    if (first !== 0x78 /* x */ && first !== 0x66 /* f */) continue;
    const lower = name.toLowerCase();
    if (lower === 'forwarded' || lower.startsWith('x-forwarded-')) delete req.headers[lower];
  }
}

/**
 * More header fields than this are refused (431). Node keeps only the first 2000 of a request and drops the rest
 * without a word; the facade adds its own before forwarding, and an upstream would then drop fields the facade
 * relies on (its `Host` among them: Node answers a request without one with a bare 400). No real client sends
 * anywhere near this many.
 */
export const MAX_REQUEST_HEADERS = 1000;

export const tooManyHeaders = (req: IncomingMessage): boolean => req.rawHeaders.length > 2 * MAX_REQUEST_HEADERS;

const FORWARDED = Symbol('strangler.forwarded');
type MarkedRequest = IncomingMessage & { [FORWARDED]?: true };
const HOST_PORT = /:(\d+)$/;

/**
 * `X-Forwarded-For`, `-Port` and `-Proto` get this hop appended (a trusted proxy's values are kept in front; a
 * client's were dropped before), `X-Forwarded-Host` is kept or set from `Host`. Once per request, however many
 * upstreams it is sent to (a fallback sends it twice).
 */
export function setForwardedHeaders(req: IncomingMessage): void {
  if ((req as MarkedRequest)[FORWARDED]) return;
  (req as MarkedRequest)[FORWARDED] = true;
  const h = req.headers;
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const port = (h.host !== undefined && HOST_PORT.exec(h.host)?.[1]) || (encrypted ? '443' : '80');
  h['x-forwarded-for'] = append(h['x-forwarded-for'], req.socket.remoteAddress ?? '');
  h['x-forwarded-port'] = append(h['x-forwarded-port'], port);
  h['x-forwarded-proto'] = append(h['x-forwarded-proto'], encrypted ? 'https' : 'http');
  h['x-forwarded-host'] = h['x-forwarded-host'] || h.host || '';
}

const append = (prior: string | string[] | undefined, value: string): string => (prior ? `${String(prior)},${value}` : value);
