import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Puts the active span's ids on every line so logs and traces join up. Without a started SDK there is never an
 * active span, so this costs one context lookup per line. A fresh object each time: pino merges the log fields
 * into what the mixin returns.
 */
export function traceFields(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { traceId: ctx.traceId, spanId: ctx.spanId };
}

/** Query parameters whose values are credentials: never written to a log. */
const SECRET_PARAM = /token|key|password|passwd|pwd|secret|signature|session|auth|credential/i;

/**
 * A request URL fit for a log: the value of every query parameter named like a credential (`?token=`, `api_key`,
 * `password`, `client_secret`…) is replaced, so a secret someone put in a URL does not end up in a log file.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const query = url.slice(q + 1);
  if (!SECRET_PARAM.test(query)) return url;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // a malformed escape: judged as written
    }
    return SECRET_PARAM.test(name) ? `${rawName}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/**
 * JSON logs on stdout, one line per event. `LOG_LEVEL=silent` keeps test output readable.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceFields,
  });
}
