import path from 'node:path';
import { z } from 'zod';
import { optionalString, parseConfig } from '../config';

const emptyIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const tracingConfig = z.object({
  OTEL_SDK_DISABLED: z.preprocess(
    (v) => (typeof v === 'string' ? emptyIsUnset(v.toLowerCase()) : v),
    z.enum(['true', 'false']).default('false'),
  ),
  OTEL_SERVICE_NAME: optionalString(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyIsUnset, z.url({ protocol: /^https?$/ }).optional()),
});

export interface TracingOptions {
  /** Used when `OTEL_SERVICE_NAME` is unset. */
  serviceName?: string;
}

export interface Tracing {
  /** False when `OTEL_SDK_DISABLED=true`: nothing is patched and no trace ids appear anywhere. */
  readonly enabled: boolean;
  /** True when spans leave the process over OTLP/HTTP. */
  readonly exporting: boolean;
  readonly serviceName: string;
  /** Flushes spans still buffered for export; safe to call more than once. */
  shutdown(): Promise<void>;
}

let current: Tracing | undefined;

/**
 * Starts the OpenTelemetry Node SDK once per process. Call it before express, pg or kafkajs are first required:
 * instrumentation patches modules as they load and cannot reach ones already loaded (see `register.ts`).
 *
 * Spans are always created while enabled, so `traceparent` reaches every downstream call and logs carry trace
 * ids; they leave the process only when an OTLP endpoint is configured.
 */
export function startTracing(options: TracingOptions = {}): Tracing {
  if (current) return current;
  const config = parseConfig(tracingConfig, process.env, 'tracing configuration');
  const serviceName = config.OTEL_SERVICE_NAME ?? options.serviceName ?? 'unknown_service:node';
  if (config.OTEL_SDK_DISABLED === 'true') {
    current = { enabled: false, exporting: false, serviceName, shutdown: async () => {} };
    return current;
  }
  const exporting = Boolean(config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT);
  // Loaded only when enabled: the SDK takes about a second to require, which a disabled process should not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  const sdk = startSdk({ serviceName, exporting });
  let stopped: Promise<void> | undefined;
  current = {
    enabled: true,
    exporting,
    serviceName,
    shutdown: () => (stopped ??= sdk.shutdown()),
  };
  return current;
}

/**
 * A name for a process whose environment does not set `OTEL_SERVICE_NAME`: the folder that holds its `src/`
 * (`monolith/src/main.ts` → `monolith`, `extracted/orders/src/main.ts` → `orders`), else the file's own name.
 */
export function serviceNameFromEntry(entry: string | undefined): string | undefined {
  if (!entry) return undefined;
  const parts = path.resolve(entry).split(path.sep);
  const src = parts.lastIndexOf('src');
  if (src > 0) return parts[src - 1];
  return path.basename(entry, path.extname(entry)) || undefined;
}
