import type http from 'node:http';
import type { Logger } from '../../../lib/logger';
import { RouteTable, type Plan } from '../../../control/plan';
import type { Flags } from '../flags/flag-source';
import { recordRequest } from '../metrics/metrics';
import { tapResponse } from '../shadow/capture';
import type { Captured } from '../shadow/compare';
import type { ShadowContext, Shadower } from '../shadow/shadower';
import { UpstreamServerError, isOpenBreakerError, type UpstreamBreaker } from '../upstreams/breaker';
import type { ServiceOutcomes } from '../upstreams/outcomes';
import { MAX_BODY_BYTES, BodyTimeoutError, BodyTooLargeError, bodyOnSafeMethod, declaredTooLarge, hasUndeclaredBody, readBody } from './body';
import { dropForwardedHeaders, MAX_REQUEST_HEADERS, tooManyHeaders } from './headers';
import { EMPTY_BODY, IncompleteRequestError, type Forwarder } from './forwarder';
import type { Upstream } from '../upstreams/upstream';
import { ensureRequestId, ensureTraceparent, isSafeMethod, stripStranglerHeaders } from './request-meta';
import type { StickyUsers } from './sticky';
import { sendError } from './respond';
import { checkTarget } from './target';

export interface RoutedContext {
  name: string;
  service: Upstream;
  breaker: UpstreamBreaker;
  shadow: ShadowContext;
}

const TIMING = Symbol('strangler.timing');
type Timed = http.ServerResponse & { [TIMING]?: { context: string; started: number } };

/**
 * Records a request once its answer is complete: called by the forwarder when an upstream's response has ended
 * (the proxy engine's own `end` event, so no listener is added per request) and by `fail` for the facade's own answers.
 */
export function answered(res: http.ServerResponse): void {
  const timing = (res as Timed)[TIMING];
  if (!timing) return;
  (res as Timed)[TIMING] = undefined;
  const upstream = (res.getHeader(HEADER_UPSTREAM) as string | undefined) ?? 'facade';
  recordRequest(timing.context, upstream, res.statusCode, (performance.now() - timing.started) / 1000);
}

/** Hooks on the monolith leg of a shadowed request: its response, or the error that ended it without one. */
interface MonolithLeg {
  onResponse: (proxyRes: http.IncomingMessage) => void;
  onError: (err: unknown) => void;
}

export const HEADER_UPSTREAM = 'x-strangler-upstream';
export const HEADER_CONTEXT = 'x-strangler-context';
export const HEADER_FALLBACK = 'x-strangler-fallback';

/**
 * The hot path. Per request: strip client-sent `x-strangler-*`, make sure of a request id and trace context, find
 * the most specific plan route, ask the flags where it goes, and proxy — streaming, unless the request is shadowed
 * (its body is then held, at most 1 MB, so the exact bytes can be sent twice). No Express here: its per-request cost
 * would halve throughput; the admin API is a separate Express app.
 */
export class FacadeRouter {
  private readonly routes: RouteTable<RoutedContext>;

  constructor(
    plan: Plan,
    private readonly contexts: Map<string, RoutedContext>,
    private readonly monolith: Upstream,
    private readonly flags: Flags,
    private readonly forwarder: Forwarder,
    private readonly shadower: Shadower,
    private readonly outcomes: ServiceOutcomes,
    private readonly logger: Logger,
    private readonly sticky: StickyUsers,
    /** Client-sent `X-Forwarded-*` are passed on (appended to) only behind a trusted proxy; otherwise replaced. */
    private readonly trustProxy = false,
  ) {
    const entries = [];
    for (const [name, ctx] of Object.entries(plan.contexts)) {
      for (const pattern of ctx.routes) entries.push({ pattern, value: contexts.get(name)! });
    }
    this.routes = new RouteTable(entries);
    forwarder.onEnd(answered);
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    stripStranglerHeaders(req);
    const requestId = ensureRequestId(req);
    ensureTraceparent(req);
    res.setHeader('x-request-id', requestId);

    const target = checkTarget(req);
    const match = target.ok ? this.routes.match(req.method ?? 'GET', target.path) : undefined;
    const context = match?.value;
    const contextName = context?.name ?? 'none';
    res.setHeader(HEADER_CONTEXT, contextName);
    (res as Timed)[TIMING] = { context: contextName, started };

    const refusal = !target.ok ? target.message : bodyOnSafeMethod(req);
    if (refusal) {
      req.resume();
      this.fail(res, 400, target.ok ? 'body_not_allowed' : 'invalid_target', refusal, { connection: 'close' });
      return;
    }
    if (tooManyHeaders(req)) {
      req.resume();
      this.fail(res, 431, 'headers_too_large', `the request has more than ${MAX_REQUEST_HEADERS} header fields`, { connection: 'close' });
      return;
    }
    if (declaredTooLarge(req)) {
      req.resume();
      this.fail(res, 413, 'payload_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`, { connection: 'close' });
      return;
    }
    if (!this.trustProxy) dropForwardedHeaders(req);

    if (!context) {
      this.toMonolith(req, res, undefined);
      return;
    }
    const userId = this.sticky.userOf(req, context.name);
    if (this.flags.routeToService(context.name, userId)) {
      this.toService(req, res, context, this.flags.state(context.name).stage === 'retired');
      return;
    }
    if (this.flags.sampleShadow(context.name, userId) && this.shadower.admit(context.shadow, req.method)) {
      void this.shadowed(req, res, context, match!.pattern.source, requestId);
      return;
    }
    this.toMonolith(req, res, undefined);
  }

  private toMonolith(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | undefined, leg?: MonolithLeg): void {
    res.setHeader(HEADER_UPSTREAM, 'monolith');
    if (!body && hasUndeclaredBody(req)) {
      // A chunked body has no declared size: hold it (≤ 1 MB, ≤ the upstream timeout) so the limits hold for every request.
      readBody(req, this.forwarder.timeoutMs).then(
        (b) => this.toMonolith(req, res, b, leg),
        (err) => {
          leg?.onError(err);
          this.bodyError(res, err);
        },
      );
      return;
    }
    this.forwarder.forward(req, res, this.monolith, { body, onResponse: leg?.onResponse }, (err) => {
      leg?.onError(err);
      this.upstreamError(res, 'monolith', err);
    });
  }

  private toService(req: http.IncomingMessage, res: http.ServerResponse, context: RoutedContext, retired: boolean): void {
    res.setHeader(HEADER_UPSTREAM, context.name);
    const safe = isSafeMethod(req.method);
    const started = Date.now();
    const epoch = this.outcomes.epoch(context.name);
    let clientFault: IncompleteRequestError | undefined;
    context.breaker
      .run(
        () =>
          new Promise<void>((resolve, reject) => {
            this.forwarder.forward(
              req,
              res,
              context.service,
              {
                onResponse: (proxyRes) => {
                  const status = proxyRes.statusCode ?? 502;
                  if (status >= 500) reject(new UpstreamServerError(status));
                  else resolve();
                },
              },
              (err) => {
                if (!(err instanceof IncompleteRequestError)) return reject(err);
                clientFault = err;
                resolve();
              },
            );
          }),
      )
      .then(
        () => {
          if (clientFault) this.incompleteRequest(res, clientFault);
          else this.outcomes.record(context.name, true, epoch);
        },
        (err: NodeJS.ErrnoException) => {
          // A refusal by the open breaker is still a request the service could not serve.
          this.outcomes.record(context.name, false, epoch);
          if (res.headersSent) return; // a 5xx already on its way to the client
          if (safe && !retired) {
            // The monolith still has the data (reverse sync keeps it current), so a read never fails the user.
            res.setHeader(HEADER_FALLBACK, '1');
            this.outcomes.recordFallback(context.name);
            this.forwarder.forward(req, res, this.monolith, { body: EMPTY_BODY }, (e) => this.upstreamError(res, 'monolith', e));
            res.setHeader(HEADER_UPSTREAM, 'monolith');
            return;
          }
          const timedOut = Date.now() - started >= this.forwarderTimeout(err);
          this.logger.warn({ context: context.name, err: err.message, code: err.code }, 'service unavailable');
          this.fail(
            res,
            503,
            'upstream_unavailable',
            isOpenBreakerError(err)
              ? `the ${context.name} service is unavailable (circuit open); retry later`
              : `the ${context.name} service ${timedOut ? 'timed out' : 'is unavailable'}; the request was not retried`,
            { 'retry-after': String(context.breaker.retryAfterSeconds) },
          );
        },
      );
  }

  private forwarderTimeout(err: NodeJS.ErrnoException): number {
    return err.code === 'ECONNRESET' ? 0 : Number.POSITIVE_INFINITY;
  }

  private async shadowed(req: http.IncomingMessage, res: http.ServerResponse, context: RoutedContext, route: string, requestId: string): Promise<void> {
    let body: Buffer;
    try {
      // A GET or HEAD with a body never gets here (refused in handle).
      body = req.method === 'GET' || req.method === 'HEAD' ? EMPTY_BODY : await readBody(req, this.forwarder.timeoutMs);
    } catch (err) {
      this.bodyError(res, err);
      return;
    }
    let answered!: (c: Captured) => void;
    let failed!: (e: unknown) => void;
    const monolithAnswer = new Promise<Captured>((resolve, reject) => {
      answered = resolve;
      failed = reject;
    });
    monolithAnswer.catch(() => undefined);
    // Snapshot what the service must see before the forwarder adds its x-forwarded-* headers.
    const headers = { ...req.headers };
    // Every way the monolith leg can end settles its answer, or the shadow slot it holds would never be given back.
    this.toMonolith(req, res, body, { onResponse: (proxyRes) => tapResponse(proxyRes).then(answered, failed), onError: failed });
    // 'close' also follows a normal finish (on the next tick, before the capture's promise settles).
    res.once('close', () => {
      if (!res.writableFinished) failed(new Error('client went away'));
    });
    this.shadower.run({ context: context.shadow, route, method: req.method ?? 'GET', path: req.url ?? '/', headers, body, requestId }, monolithAnswer);
  }

  /** An answer of the facade's own: recorded here, since no upstream response will end it. */
  private fail(res: http.ServerResponse, status: number, code: string, message: string, headers?: Record<string, string>): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, status, code, message, headers);
    answered(res);
  }

  private bodyError(res: http.ServerResponse, err: unknown): void {
    if (err instanceof BodyTooLargeError) this.fail(res, 413, 'payload_too_large', err.message, { connection: 'close' });
    else if (err instanceof BodyTimeoutError) this.fail(res, 408, 'request_timeout', err.message, { connection: 'close' });
    else this.fail(res, 400, 'invalid_body', 'the request body could not be read');
  }

  private incompleteRequest(res: http.ServerResponse, err: IncompleteRequestError): void {
    this.fail(res, 408, 'request_timeout', err.message, { connection: 'close' });
  }

  private upstreamError(res: http.ServerResponse, name: string, err: NodeJS.ErrnoException): void {
    if (err instanceof IncompleteRequestError) {
      this.incompleteRequest(res, err);
      return;
    }
    this.logger.warn({ upstream: name, err: err.message, code: err.code }, 'upstream error');
    this.fail(res, 503, 'upstream_unavailable', `the ${name} did not answer`, { 'retry-after': '1' });
  }
}
