import { startTracing, type Tracing } from '../../lib/telemetry/tracing';

/**
 * The facade always propagates W3C trace context (it starts a `traceparent` when a request has none), but it
 * creates and exports spans of its own only when an OTLP endpoint is configured: span bookkeeping on every proxied
 * request costs more than the proxying itself. Imported first by main.ts so instrumentation can patch modules.
 */
const exporting = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);

export const tracing: Tracing = exporting
  ? startTracing({ serviceName: 'facade' })
  : { enabled: false, exporting: false, serviceName: 'facade', shutdown: async () => {} };
