import { context, propagation } from '@opentelemetry/api';
import type { Request } from 'express';
import { isDryRun, propagatedHeaders } from '../../../../lib/http/dry-run';
import type { Logger } from '../../../../lib/logger';

/** How a request is served: a dry run rolls back at the end; the headers go on every call to another service. */
export interface CallContext {
  dryRun: boolean;
  /** Request id, the dry-run marker and, when no tracing SDK runs, the caller's trace context. */
  forwardHeaders: Record<string, string>;
  /** W3C trace context (`traceparent`, `tracestate`) stored with outbox events so consumers join the trace. */
  trace: Record<string, string>;
  log: Logger;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The trace this request belongs to. With the OpenTelemetry SDK running, the active span (the server span of this
 * request) is injected, and the fetch instrumentation adds `traceparent` to outgoing calls by itself. Without it, the
 * caller's own `traceparent` is passed through unchanged so the trace is not cut at this service.
 */
function traceContext(req: Request): { trace: Record<string, string>; fromSdk: boolean } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent) return { trace: carrier, fromSdk: true };
  const incoming = req.headers.traceparent;
  if (typeof incoming !== 'string' || !TRACEPARENT.test(incoming)) return { trace: {}, fromSdk: false };
  const state = req.headers.tracestate;
  return { trace: typeof state === 'string' ? { traceparent: incoming, tracestate: state } : { traceparent: incoming }, fromSdk: false };
}

export function callContext(req: Request): CallContext {
  const { trace, fromSdk } = traceContext(req);
  return {
    dryRun: isDryRun(req),
    // Setting traceparent ourselves while the SDK runs would send it twice: the instrumentation adds its own.
    forwardHeaders: fromSdk ? propagatedHeaders(req) : { ...propagatedHeaders(req), ...trace },
    trace,
    log: req.log,
  };
}
