import type http from 'node:http';
import { Readable } from 'node:stream';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Upstream } from '../upstreams/upstream';
import { setForwardedHeaders } from './headers';

/**
 * The client declared a body it did not send: the upstream waited for it until the proxy timeout. The client's fault,
 * not the upstream's, so it must not count against a service's breaker or its automatic rollback.
 */
export class IncompleteRequestError extends Error {
  readonly code = 'EINCOMPLETE';
  constructor() {
    super('the request body did not arrive before the upstream timeout');
    this.name = 'IncompleteRequestError';
  }
}

type ResponseHook = (proxyRes: http.IncomingMessage) => void;

/** One forward of one request: what the engine's shared event listeners need to reach this call's callbacks. */
interface Call {
  target: Upstream;
  body?: Buffer;
  onResponse?: ResponseHook;
  onError: (err: NodeJS.ErrnoException) => void;
  started: number;
  /** The upstream request went out on a pooled connection (known from the engine's `proxyReq` event). */
  reused: boolean;
  retried: boolean;
  done: boolean;
}

const CALL = Symbol('strangler.forward');
type CalledRequest = http.IncomingMessage & { [CALL]?: Call };

/** Methods a request can be sent again with, when it never reached the upstream's application (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** What a connection the upstream had already closed gives the request written on it. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/**
 * The proxying engine: one http-proxy-middleware 4 instance (on httpxy), created once. Its `router` picks the
 * upstream, agent (keep-alive, per upstream) and, when the facade already holds the body, the exact bytes to send;
 * without one the request streams through untouched. Its events are listened to once, here, not per request: each
 * request carries its own callbacks under a symbol.
 */
export class Forwarder {
  private readonly middleware: RequestHandler;
  private readonly endListeners: ((res: http.ServerResponse) => void)[] = [];

  constructor(readonly timeoutMs: number) {
    this.middleware = createProxyMiddleware({
      router: (req, _res, options) => {
        const call = (req as CalledRequest)[CALL]!;
        options.agent = call.target.agent;
        if (call.body) options.buffer = Readable.from([call.body]);
        return call.target.url;
      },
      proxyTimeout: timeoutMs,
      // x-forwarded-* are written by setForwardedHeaders: httpxy's own never appends to a trusted proxy's values.
      xfwd: false,
      // No logger, error page or debug plugins: errors are this class's to answer, through each call's callback.
      ejectPlugins: true,
      plugins: [
        (proxy) => {
          proxy.on('proxyReq', (proxyReq: http.ClientRequest, req: CalledRequest) => {
            const call = req[CALL];
            if (call) call.reused = proxyReq.reusedSocket;
          });
          proxy.on('proxyRes', (proxyRes: http.IncomingMessage, req: CalledRequest) => req[CALL]?.onResponse?.(proxyRes));
          proxy.on('end', (_req: http.IncomingMessage, res: http.ServerResponse) => {
            for (const listener of this.endListeners) listener(res);
          });
          proxy.on('error', (err: NodeJS.ErrnoException, req?: CalledRequest, res?: unknown) => {
            // No WebSocket proxying here: `res` is always a response.
            if (req && res) this.failed(req, res as http.ServerResponse, err);
          });
        },
      ],
    });
  }

  /** Called once per proxied response, when the upstream's response has ended (the engine's `end` event). */
  onEnd(listener: (res: http.ServerResponse) => void): void {
    this.endListeners.push(listener);
  }

  forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: Upstream,
    options: { body?: Buffer; onResponse?: ResponseHook },
    onError: (err: NodeJS.ErrnoException) => void,
  ): void {
    setForwardedHeaders(req);
    const call: Call = { target, body: options.body, onResponse: options.onResponse, onError, started: Date.now(), reused: false, retried: false, done: false };
    (req as CalledRequest)[CALL] = call;
    this.send(req, res);
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse): void {
    // `next` is called only when the middleware did not proxy (an error before sending: already reported, or none).
    void this.middleware(req, res, (err?: unknown) => this.failed(req, res, (err as NodeJS.ErrnoException) ?? new Error('the request was not proxied')));
  }

  private failed(req: CalledRequest, res: http.ServerResponse, err: NodeJS.ErrnoException): void {
    const call = req[CALL];
    if (!call || call.done) return;
    if (this.canResend(req, res, call, err)) {
      // The upstream closed an idle pooled connection just as this request was written to it: the request never
      // reached its application, so one more try, on a fresh connection, is safe for an idempotent method.
      call.retried = true;
      call.reused = false;
      this.send(req, res);
      return;
    }
    call.done = true;
    call.onError(!req.complete && Date.now() - call.started >= this.timeoutMs ? new IncompleteRequestError() : err);
  }

  private canResend(req: http.IncomingMessage, res: http.ServerResponse, call: Call, err: NodeJS.ErrnoException): boolean {
    if (call.retried || !call.reused || res.headersSent || !STALE_CONNECTION.has(err.code ?? '')) return false;
    if (!IDEMPOTENT.has(req.method ?? '')) return false;
    if (Date.now() - call.started >= this.timeoutMs) return false; // the proxy timeout, not a stale connection
    // A streamed body was consumed by the first try; only bytes the facade holds can be sent again.
    return call.body !== undefined || !hasBody(req);
  }

  close(): void {
    this.endListeners.length = 0;
  }
}

function hasBody(req: http.IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** An empty body for re-sending a request whose stream was already consumed (a GET fallback). */
export const EMPTY_BODY = Buffer.alloc(0);
