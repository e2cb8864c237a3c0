import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { listen, type RunningServer } from '../../http/server';
import { startTestMonolith, type TestMonolith } from '../../../monolith/testing';
import { testServerUrl } from '../../../test/harness/database';
import { eventually } from '../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../test/harness/kafka';
import { serviceNameFromEntry } from '../tracing';

describe('GET /metrics on the monolith', () => {
  let t: TestMonolith;
  beforeAll(async () => {
    t = await startTestMonolith();
  });
  afterAll(() => t?.stop());

  it('counts and times requests by route pattern, never by raw URL, next to the default process metrics', async () => {
    const url = t.server.url;
    const created = await fetch(`${url}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `m-${randomUUID()}@example.com`, name: 'Metrics' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect((await fetch(`${url}/api/users/${id}`)).status).toBe(200);
    expect((await fetch(`${url}/api/users/${id + 1000}`)).status).toBe(404);
    expect((await fetch(`${url}/no/such/${id}`)).status).toBe(404);

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('http_requests_total{method="POST",route="/api/users",status="201"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/api/users/:id",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/api/users/:id",status="404"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/api/users/:id",status="200"} 1');
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/users\/:id",status="200"\} 1$/m);
    expect(text).not.toContain(`/${id}"`);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('serviceNameFromEntry', () => {
  it('names a process after the folder holding its src/', () => {
    expect(serviceNameFromEntry('/repo/monolith/src/main.ts')).toBe('monolith');
    expect(serviceNameFromEntry('/repo/extracted/orders/src/main.ts')).toBe('orders');
    expect(serviceNameFromEntry('/repo/tools/worker.ts')).toBe('worker');
    expect(serviceNameFromEntry(undefined)).toBeUndefined();
  });
});

/*
 * Tracing is checked in a child process. Instrumentation works by hooking Node's `require` and patching express,
 * http, pg and kafkajs as they load; Jest loads modules through its own registry, which those hooks never see, so
 * an SDK started inside a test patches nothing (tried: no traceparent reached the downstream server). The child
 * runs fixtures/traced-app.ts with `node --import tsx`, the way the stack runs every service.
 */
const FIXTURE = path.join(__dirname, 'fixtures', 'traced-app.ts');

type LogLine = Record<string, unknown> & { msg?: string };

interface TracedApp {
  url: string;
  ready: LogLine;
  lines: LogLine[];
  stop(): Promise<number | null>;
}

async function startTracedApp(env: Record<string, string>): Promise<TracedApp> {
  // The child must see only the tracing settings each test chooses, not whatever the developer's shell exports.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...inherited, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    eventually(() => {
      const line = lines.find((l) => l.msg === 'ready');
      if (!line) throw new Error(`traced app not ready; stderr: ${stderr}`);
      return line;
    }, 30_000),
    exited.then((code) => {
      throw new Error(`traced app exited with ${code}: ${stderr}`);
    }),
  ]);
  return {
    url: String(ready.url),
    ready,
    lines,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function relay(app: TracedApp, traceparent?: string): Promise<{ fetch: string | null; http: string | null }> {
  const res = await fetch(`${app.url}/api/relay/42`, { headers: traceparent ? { traceparent } : {} });
  expect(res.status).toBe(200);
  return (await res.json()) as { fetch: string | null; http: string | null };
}

/** The first log line with `msg` (and any other fields given); lines arrive after the response, so it waits. */
function logged(app: TracedApp, msg: string, fields: LogLine = {}, timeoutMs?: number): Promise<LogLine> {
  return eventually(() => {
    const line = app.lines.find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
    if (!line) throw new Error(`no "${msg}" log line with ${JSON.stringify(fields)}`);
    return line;
  }, timeoutMs);
}

describe('tracing without an OTLP endpoint', () => {
  let app: TracedApp;
  beforeAll(async () => {
    app = await startTracedApp({ OTEL_SERVICE_NAME: 'traced-app' });
  });
  afterAll(() => app?.stop());

  it('is on but exports nothing', () => {
    expect(app.ready).toMatchObject({ enabled: true, exporting: false, serviceName: 'traced-app' });
  });

  it("continues the caller's trace on outgoing fetch and http calls and in the request's log lines", async () => {
    const traceId = hex(16);
    const parentSpanId = hex(8);
    const seen = await relay(app, `00-${traceId}-${parentSpanId}-01`);
    for (const outgoing of [seen.fetch, seen.http]) {
      expect(outgoing).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      // A span of our own sits between the caller's and the downstream call.
      expect(outgoing).not.toContain(parentSpanId);
    }
    expect(await logged(app, 'relayed')).toMatchObject({ traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    await logged(app, 'request', { path: '/api/relay/42', traceId });
  });

  it('starts a trace when the caller sent none', async () => {
    app.lines.length = 0;
    const seen = await relay(app);
    const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(seen.fetch ?? '')?.[1];
    expect(traceId).toBeDefined();
    expect(seen.http).toContain(`00-${traceId}-`);
    expect(await logged(app, 'relayed')).toMatchObject({ traceId });
  });
});

describe('OTEL_SDK_DISABLED=true', () => {
  it('propagates nothing and logs no trace ids', async () => {
    const app = await startTracedApp({ OTEL_SDK_DISABLED: 'true' });
    try {
      expect(app.ready).toMatchObject({ enabled: false });
      const seen = await relay(app, `00-${hex(16)}-${hex(8)}-01`);
      expect(seen).toEqual({ fetch: null, http: null });
      const line = await logged(app, 'relayed');
      expect(line.traceId).toBeUndefined();
    } finally {
      await app.stop();
    }
  });
});

interface OtlpSpan {
  traceId: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string } }[];
}
interface ExportedSpan extends OtlpSpan {
  service: string | undefined;
  scope: string;
}

/** A stand-in OTLP/HTTP collector that keeps every JSON trace export it receives. */
async function startCollector(): Promise<RunningServer & { spans: ExportedSpan[]; raw: string[] }> {
  const spans: ExportedSpan[] = [];
  const raw: string[] = [];
  const server = await listen((req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        raw.push(body);
        const exported = JSON.parse(body) as {
          resourceSpans: {
            resource: { attributes: OtlpSpan['attributes'] };
            scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
          }[];
        };
        for (const rs of exported.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service, scope: ss.scope.name });
        }
      }
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  }, 0);
  return Object.assign(server, { spans, raw });
}

const attr = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;

describe('tracing with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports the spans of http, express, fetch and pg over OTLP/HTTP, flushed at shutdown', async () => {
    const collector = await startCollector();
    const app = await startTracedApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'traced-export',
      // Longer than the test: spans can only arrive through the flush on shutdown.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      DATABASE_URL: testServerUrl(),
    });
    try {
      expect(app.ready).toMatchObject({ enabled: true, exporting: true });
      const traceId = hex(16);
      await relay(app, `00-${traceId}-${hex(8)}-01`);
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
      expect((await fetch(`${app.url}/metrics`)).status).toBe(200);
      expect(collector.spans).toHaveLength(0);
      expect(await app.stop()).toBe(0);

      const trace = collector.spans.filter((s) => s.traceId === traceId);
      expect(new Set(collector.spans.map((s) => s.service))).toEqual(new Set(['traced-export']));
      expect(new Set(trace.map((s) => s.scope))).toEqual(
        new Set([
          '@opentelemetry/instrumentation-http',
          '@opentelemetry/instrumentation-express',
          '@opentelemetry/instrumentation-undici',
          '@opentelemetry/instrumentation-pg',
        ]),
      );
      const SERVER = 2;
      const incoming = trace.find((s) => s.kind === SERVER && attr(s, 'http.route') === '/api/relay/:id');
      expect(incoming?.name).toBe('GET /api/relay/:id');
      expect(trace.some((s) => s.scope.endsWith('-pg') && /SELECT/.test(s.name))).toBe(true);
      // Probes and scrapes are not worth a trace each.
      expect(collector.raw.join('\n')).not.toMatch(/\/health|\/metrics/);
    } finally {
      await app.stop();
      await collector.close();
    }
  });
});

describeWithKafka('tracing through Kafka', () => {
  it('carries traceparent in message headers and continues the trace in the consumer', async () => {
    const app = await startTracedApp({
      OTEL_SERVICE_NAME: 'traced-kafka',
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC: `telemetry-${hex(4)}`,
    });
    try {
      const traceId = hex(16);
      await relay(app, `00-${traceId}-${hex(8)}-01`);
      const consumed = await logged(app, 'consumed', {}, 30_000);
      expect(consumed.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(consumed.traceId).toBe(traceId);
    } finally {
      await app.stop();
    }
  });
});
