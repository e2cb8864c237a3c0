import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '../../../../lib/http/errors';
import { isTimeout } from '../../../../lib/errors';

/** 503 `upstream_unavailable`. `maybeDelivered`: a request may have reached the service and had an effect there. */
export class UpstreamUnavailableError extends HttpError {
  constructor(
    service: string,
    why: string,
    readonly maybeDelivered = false,
  ) {
    super(503, 'upstream_unavailable', `the ${service} service is unavailable (${why}); nothing was changed, try again later`);
  }
}

/**
 * A call that did not get a usable answer: refused, reset, timed out, or a 5xx. `maybeDelivered` is false only when
 * the request certainly never reached the service (connection refused), so the caller knows nothing happened there.
 */
export class TransientUpstreamError extends Error {
  constructor(
    message: string,
    readonly maybeDelivered: boolean,
  ) {
    super(message);
    this.name = 'TransientUpstreamError';
  }
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface ExchangeInit {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/**
 * One HTTP exchange with Node's fetch. The timeout covers reading the body too: a service that sends headers and
 * then stalls is as unavailable as one that never answers. 4xx answers are returned, not thrown: they are the
 * service's answer, and retrying would get the same.
 */
export async function exchange(url: string, init: ExchangeInit): Promise<UpstreamResponse> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: {
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    if (isTimeout(err)) throw new TransientUpstreamError(`no answer within ${init.timeoutMs} ms`, true);
    const code = causeCode(err);
    throw new TransientUpstreamError(`unreachable${code ? `: ${code}` : ''}`, code !== 'ECONNREFUSED');
  }
  if (res.status >= 500) throw new TransientUpstreamError(`status ${res.status}`, true);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Runs `attempt` up to `1 + retries` times while it fails with a TransientUpstreamError, with a short doubling
 * back-off. Only for calls that are safe to repeat (a GET, or a POST made safe by an idempotency key).
 */
export async function withRetries<T>(attempt: () => Promise<T>, retries: number, backoffMs = 50): Promise<T> {
  let reached = false;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TransientUpstreamError)) throw err;
      reached ||= err.maybeDelivered;
      if (i >= retries) throw new TransientUpstreamError(`${err.message} (after ${i + 1} attempts)`, reached);
      await sleep(backoffMs * 2 ** i);
    }
  }
}
