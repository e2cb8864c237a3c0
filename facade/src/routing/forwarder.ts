import type http from 'node:http';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Upstream } from '../upstreams/upstream';

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
const HOOK = Symbol('strangler.responseHook');
type HookedRequest = http.IncomingMessage & { [HOOK]?: ResponseHook };

/**
 * The proxying engine: http-proxy (the engine under http-proxy-middleware), created once, with a keep-alive agent
 * per upstream. Without a body buffer the request streams through untouched; with one, those exact bytes are sent.
 */
export class Forwarder {
  private readonly proxy: httpProxy;

  constructor(readonly timeoutMs: number) {
    this.proxy = httpProxy.createProxyServer({ xfwd: true, proxyTimeout: timeoutMs, ws: false });
    this.proxy.on('proxyRes', (proxyRes, req) => {
      const hook = (req as HookedRequest)[HOOK];
      if (hook) hook(proxyRes);
    });
    // Errors are delivered to each call's callback; this guards against anything emitted outside one.
    this.proxy.on('error', () => undefined);
  }

  /** Called once per proxied response, when the upstream's response has ended (http-proxy's `end` event). */
  onEnd(listener: (res: http.ServerResponse) => void): void {
    this.proxy.on('end', (_req: http.IncomingMessage, res: http.ServerResponse) => listener(res));
  }

  forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: Upstream,
    options: { body?: Buffer; onResponse?: ResponseHook },
    onError: (err: NodeJS.ErrnoException) => void,
  ): void {
    (req as HookedRequest)[HOOK] = options.onResponse;
    const started = Date.now();
    this.proxy.web(
      req,
      res,
      {
        target: target.target as unknown as string,
        agent: target.agent,
        buffer: options.body ? Readable.from([options.body]) : undefined,
      },
      (err) => onError(!req.complete && Date.now() - started >= this.timeoutMs ? new IncompleteRequestError() : (err as NodeJS.ErrnoException)),
    );
  }

  close(): void {
    this.proxy.close();
  }
}

/** An empty body for re-sending a request whose stream was already consumed (a GET fallback). */
export const EMPTY_BODY = Buffer.alloc(0);
