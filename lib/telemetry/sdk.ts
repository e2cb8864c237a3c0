import type { IncomingMessage } from 'node:http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK, tracing as sdkTracing } from '@opentelemetry/sdk-node';

/** Probes and scrapes arrive every few seconds; a trace for each would bury the traces of real work. */
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

function isProbe(req: IncomingMessage): boolean {
  return UNTRACED_PATHS.has((req.url ?? '').split('?')[0]);
}

function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: isProbe,
      // Background pollers (feature flags, outbox relays) would otherwise start a new trace on every tick.
      requireParentforOutgoingSpans: true,
    }),
    // `fetch` goes through undici, which the http instrumentation never sees.
    new UndiciInstrumentation({ requireParentforSpans: true }),
    // One span per middleware layer is noise and cost; routers and handlers still get theirs and name the route.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
    // Queries outside a request (polling loops) stay untraced; parameter values are never recorded.
    new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    // Injects `traceparent` into produced message headers and continues the trace in consumers.
    new KafkaJsInstrumentation(),
  ];
}

/** Starts the Node SDK with our instrumentations; `startTracing` decides whether and how. */
export function startSdk(options: { serviceName: string; exporting: boolean }): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    instrumentations: instrumentations(),
    // The exporter reads the endpoint, headers and timeout from the standard OTEL_EXPORTER_OTLP_* variables.
    // Without an endpoint a processor that drops spans still makes the SDK's tracer live, so ids propagate.
    spanProcessors: options.exporting ? undefined : [new sdkTracing.NoopSpanProcessor()],
    traceExporter: options.exporting ? new OTLPTraceExporter() : undefined,
    // Metrics are scraped from prom-client and logs go to stdout; the SDK must not default to OTLP for either.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return sdk;
}
