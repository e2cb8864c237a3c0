import type http from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
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

/**
 * Methods a request is sent again with after a reset of a reused connection: reads only. PUT and DELETE are
 * idempotent by HTTP's rules, but a reset can follow a request the upstream did act on, and the facade promises
 * that a write is never sent twice.
 */
const RESENDABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What a connection the upstream had already closed gives the request written on it. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/** Per-request options of the engine (httpxy's `web`): prepared once per upstream. */
interface EngineOptions {
  target: { protocol: string; host: string; hostname: string; port: string; pathname: string };
  agent: http.Agent;
  proxyTimeout: number;
  /** The response is written by `relay` (the engine's `proxyRes` event), not by the engine's own outgoing passes. */
  selfHandleResponse: true;
  buffer?: BodySource;
}

/**
 * What the engine sends as the request body: it calls `buffer.pipe(upstreamRequest)` once the upstream request has
 * its socket. A body the facade holds is written in one `end`, and a request without a body is ended at once,
 * instead of a `Readable` (or the client's request) piped through stream machinery per request.
 */
interface BodySource {
  pipe(to: http.ClientRequest): http.ClientRequest;
}

const NO_BODY: BodySource = { pipe: (to) => to.end() };

class HeldBody implements BodySource {
  constructor(private readonly bytes: Buffer) {}
  pipe(to: http.ClientRequest): http.ClientRequest {
    return to.end(this.bytes);
  }
}

/** The part of httpxy's ProxyServer used here (http-proxy-middleware hands it to its plugins). */
interface Engine {
  web(req: http.IncomingMessage, res: http.ServerResponse, options: EngineOptions): Promise<void>;
}

/**
 * The proxying engine: http-proxy-middleware 4's, created once, with its httpxy proxy server taken from a plugin.
 * Requests go to that server's `web` with options prepared once per upstream (target, keep-alive agent, timeout)
 * and, when the facade already holds the body, the exact bytes to send; a request without a body is ended at once,
 * any other streams through untouched. The response is written by `relay` (`selfHandleResponse`). The middleware's
 * own per-request layer (a path filter that parses a URL, an options copy, an async router and its promises)
 * decides nothing here that the facade has not already decided, so it is not on the path (on this project's loaded
 * bench machine the two were within noise of each other: BENCHMARKS.md). Events are listened to once, here, not per
 * request: each request carries its own callbacks under a symbol.
 */
export class Forwarder {
  private engine!: Engine;
  private readonly prepared = new WeakMap<Upstream, EngineOptions>();
  private readonly endListeners: ((res: http.ServerResponse) => void)[] = [];
  private readonly engineFailed = (err: unknown): void => void err;

  constructor(readonly timeoutMs: number) {
    createProxyMiddleware({
      // Never used as such: each request's upstream is in the options `web` is given.
      target: 'http://127.0.0.1',
      proxyTimeout: timeoutMs,
      // x-forwarded-* are written by setForwardedHeaders: httpxy's own never appends to a trusted proxy's values.
      xfwd: false,
      // No logger, error page or debug plugins: errors are this class's to answer, through each call's callback.
      ejectPlugins: true,
      plugins: [
        (proxy) => {
          this.engine = proxy as unknown as Engine;
          proxy.on('proxyReq', (proxyReq: http.ClientRequest, req: CalledRequest) => {
            const call = req[CALL];
            if (call) call.reused = proxyReq.reusedSocket;
          });
          proxy.on('proxyRes', (proxyRes: http.IncomingMessage, req: CalledRequest, res: http.ServerResponse) => {
            req[CALL]?.onResponse?.(proxyRes);
            relay(req, res, proxyRes);
          });
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
    const call = (req as CalledRequest)[CALL]!;
    let options = this.prepared.get(call.target);
    if (!options) {
      const u = call.target.url;
      // A bracketed IPv6 literal would be looked up as a name: the engine connects to the bare address.
      const target = { protocol: u.protocol, host: u.host, hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port || (u.protocol === 'https:' ? '443' : '80'), pathname: u.pathname };
      options = { target, agent: call.target.agent, proxyTimeout: this.timeoutMs, selfHandleResponse: true };
      this.prepared.set(call.target, options);
    }
    if (call.body) options = { ...options, buffer: call.body.length === 0 ? NO_BODY : new HeldBody(call.body) };
    else if (!hasBody(req)) options = { ...options, buffer: NO_BODY };
    // Errors arrive through the engine's `error` event (it has a listener); the promise can still reject when the
    // response itself fails, which the response's own close handling covers.
    this.engine.web(req, res, options).catch(this.engineFailed);
  }

  private failed(req: CalledRequest, res: http.ServerResponse, err: NodeJS.ErrnoException): void {
    const call = req[CALL];
    if (!call || call.done) return;
    if (this.canResend(req, res, call, err)) {
      // The upstream closed an idle pooled connection just as this request was written to it: the request never
      // reached its application: one more try, on a fresh connection, for a read.
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
    if (!RESENDABLE.has(req.method ?? '')) return false;
    if (Date.now() - call.started >= this.timeoutMs) return false; // the proxy timeout, not a stale connection
    // A streamed body was consumed by the first try; only bytes the facade holds can be sent again.
    return call.body !== undefined || !hasBody(req);
  }

  close(): void {
    this.endListeners.length = 0;
  }
}

/**
 * The upstream's response to the client: what the engine's outgoing passes did (`selfHandleResponse` turns them
 * off), without their per-request closures and per-header try/trim: `Transfer-Encoding` dropped for an HTTP/1.0
 * client and for 204/304, `Connection` kept from the upstream or else the client's (`close` for HTTP/1.0), every
 * upstream header, the status and its message; then the body, chunk by chunk with backpressure. The headers are set,
 * not written: the response counts as started (`headersSent`) only once its first bytes go out, as before.
 * The engine's own listeners still tie the two ends' closes and errors together and report the end.
 */
function relay(req: http.IncomingMessage, res: http.ServerResponse, proxyRes: http.IncomingMessage): void {
  if (!res.headersSent) {
    const headers = proxyRes.headers;
    const status = proxyRes.statusCode ?? 502;
    const http10 = req.httpVersion === '1.0';
    if (http10 || status === 204 || status === 304) delete headers['transfer-encoding'];
    if (http10) headers.connection = req.headers.connection || 'close';
    else if (!headers.connection) headers.connection = req.headers.connection || 'keep-alive';
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined) continue;
      try {
        res.setHeader(name, value);
      } catch {
        // A header Node refuses to send (an invalid character) is left out, as the engine did.
      }
    }
    res.statusCode = status;
    if (proxyRes.statusMessage) res.statusMessage = proxyRes.statusMessage;
  }
  proxyRes.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      proxyRes.pause();
      res.once('drain', () => proxyRes.resume());
    }
  });
  proxyRes.on('end', () => res.end());
}

function hasBody(req: http.IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** An empty body for re-sending a request whose stream was already consumed (a GET fallback). */
export const EMPTY_BODY = Buffer.alloc(0);
