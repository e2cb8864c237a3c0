import type http from 'node:http';

/**
 * The request target, checked and rewritten so that the path the route table matches is byte for byte the path the
 * upstream acts on. Proxies and routers read a target differently (Node's legacy `url.parse`, which older proxy
 * engines used, drops a `#…` fragment, turns `\` into `/` and merges repeated slashes; the upstream's router then
 * decodes what is left). Wherever two readers of the same bytes could disagree, the facade refuses instead of
 * guessing; no browser, HTTP library or curl sends any of these.
 */
export type TargetCheck = { ok: true; path: string } | { ok: false; message: string };

/** `scheme://authority` of an absolute-form target (`GET http://host/api/…`). */
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;
/** Percent-escapes a router or a path-normalizing proxy may read as the character itself: letters, digits, `-._~`, `/`, `\`. */
const AMBIGUOUS_ESCAPE = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[DdEeFf]|5[CcFf]|7[Ee])/;

const refuse = (message: string): TargetCheck => ({ ok: false, message });

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Rewrites `req.url` to the origin-form the upstream will get (absolute-form stripped, slashes merged) and returns
 * the lower-cased path to match routes on (Express's routing ignores case); or why the target is refused.
 */
export function checkTarget(req: http.IncomingMessage): TargetCheck {
  let url = req.url ?? '/';
  const absolute = url.charCodeAt(0) === 47 /* / */ ? null : ABSOLUTE.exec(url);
  if (absolute) url = url.slice(absolute[0].length) || '/';
  if (url.charCodeAt(0) !== 47) return refuse('the request target must be a path starting with "/"');
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    // Printable ASCII only: anything else is percent-encoded by every client.
    if (c < 0x21 || c > 0x7e) return refuse('the request target has a character that must be percent-encoded');
    if (c === 0x23 /* # */) return refuse('the request target has a fragment ("#"); fragments are never sent');
    if (c === 0x5c /* \ */) return refuse('the request target has a backslash; use "/" or %5C in a query');
  }
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.includes('//')) {
    path = path.replace(/\/{2,}/g, '/');
    url = path + (q === -1 ? '' : url.slice(q));
  }
  if (path.includes('%')) {
    // The upstream's router decodes parameters: an escape it cannot decode would fail there after matching a route.
    if (!decodes(path)) return refuse('the request path has a "%" that is not a percent-escape of UTF-8');
    if (AMBIGUOUS_ESCAPE.test(path)) return refuse('the request path percent-encodes a character that must be sent as itself (a letter, digit, "-._~", "/" or "\\")');
  }
  if (/(?:^|\/)\.{1,2}(?:\/|$)/.test(path)) return refuse('the request path has a "." or ".." segment');
  if (req.url !== url) req.url = url;
  return { ok: true, path: path.toLowerCase() };
}
