/**
 * One request through the facade with Node's fetch (undici's pooled keep-alive connections), timed from send to the
 * last body byte. Never throws: a network failure is an outcome like any status.
 */
export interface RequestSpec {
  method: string;
  path: string;
  body?: unknown;
  userId?: number;
  requestId: string;
}

export interface Outcome {
  /** null when no response arrived (connection refused, reset, timeout). */
  status: number | null;
  /** `x-strangler-upstream`, or `facade` for answers the facade made itself, or `none` without a response. */
  upstream: string;
  fallback: boolean;
  latencyMs: number;
  body?: unknown;
  /** Set for network errors and 5xx: a short key to group by, and a sample message. */
  error?: { key: string; message: string };
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** The most telling part of a fetch failure: undici hides the socket error in `cause`. */
export function describeNetworkError(err: unknown): { key: string; message: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return { key: 'network timeout', message: e.message };
  const code = e?.cause?.code ?? e?.name ?? 'Error';
  return { key: `network ${code}`, message: e?.cause?.message ?? e?.message ?? String(err) };
}

export async function send(baseUrl: string, spec: RequestSpec, timeoutMs: number): Promise<Outcome> {
  const headers: Record<string, string> = { 'x-request-id': spec.requestId, accept: 'application/json' };
  if (spec.userId !== undefined) headers['x-user-id'] = String(spec.userId);
  if (spec.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}${spec.path}`, {
      method: spec.method,
      headers,
      body: spec.body !== undefined ? JSON.stringify(spec.body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Reading the whole body returns the connection to the pool and makes the latency the client's real wait.
    const body = parse(await res.text());
    const latencyMs = performance.now() - started;
    const outcome: Outcome = {
      status: res.status,
      upstream: res.headers.get('x-strangler-upstream') ?? 'facade',
      fallback: res.headers.get('x-strangler-fallback') === '1',
      latencyMs,
      body,
    };
    if (res.status >= 500) {
      const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      outcome.error = { key: `${res.status} ${err?.code ?? 'no_error_code'}`, message: err?.message ?? (typeof body === 'string' ? body.slice(0, 200) : '') };
    }
    return outcome;
  } catch (err) {
    return { status: null, upstream: 'none', fallback: false, latencyMs: performance.now() - started, error: describeNetworkError(err) };
  }
}
