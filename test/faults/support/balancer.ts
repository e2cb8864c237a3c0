import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Safe to send again after a connection failure: the methods RFC 9110 calls idempotent (nginx's default too). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface Backend {
  url: string;
  up: boolean;
  /** Health checks in a row that got no answer in time (a busy backend is not a dead one: three mark it down). */
  slow: number;
  /** When the balancer last marked it down (a failed connection or health check); null while it never was. */
  downAt: number | null;
}

export interface Refusal {
  method: string;
  path: string;
  backend: string;
  /** When the request was sent to the backend that failed, and when the 503 went out. */
  dispatchedAt: number;
  at: number;
}

/**
 * A small HTTP load balancer for the fault suite, in the manner of nginx's `proxy_next_upstream error`: round robin
 * over the backends it thinks are up; a backend whose connection fails (refused, reset before an answer) is marked
 * down at once, and a health check (`GET healthPath`) every `healthMs` marks it up again, or down without traffic.
 * A request that failed that way is sent to the next backend when its method is idempotent; any other gets 503
 * `upstream_unavailable`, since the dead backend may have acted on it. Bodies are buffered so a retry can resend them.
 */
export class Balancer {
  readonly backends: Backend[];
  readonly refusals: Refusal[] = [];
  /** Requests a backend took more than 3 s to answer (or fail). */
  readonly slow: Refusal[] = [];
  retried = 0;
  private readonly counts = new Map<string, number>();
  private next = 0;
  private server: http.Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A connection per request: a failure is then the backend's, never a kept-alive socket it had just closed. */
  private readonly agent = new http.Agent({ keepAlive: false });

  constructor(
    backends: string[],
    private readonly options: { healthPath?: string; healthMs?: number } = {},
  ) {
    this.backends = backends.map((url) => ({ url, up: true, slow: 0, downAt: null }));
  }

  /** Requests a backend answered. */
  forwarded(url: string): number {
    return this.counts.get(url) ?? 0;
  }

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.timer = setInterval(() => void this.checkAll(), this.options.healthMs ?? 500);
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.agent.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private markDown(b: Backend): void {
    if (!b.up) return;
    b.up = false;
    b.downAt = Date.now();
  }

  private async checkAll(): Promise<void> {
    await Promise.all(
      this.backends.map(async (b) => {
        try {
          const res = await fetch(new URL(this.options.healthPath ?? '/_strangler/health', b.url), { signal: AbortSignal.timeout(2_000) });
          await res.arrayBuffer();
          b.slow = 0;
          if (res.status < 500) b.up = true;
          else this.markDown(b);
        } catch (err) {
          // Refused or reset: nobody listens. A timeout: maybe only busy.
          const timedOut = (err as Error).name === 'TimeoutError';
          if (!timedOut || ++b.slow >= 3) this.markDown(b);
        }
      }),
    );
  }

  private pick(exclude: Set<Backend>): Backend | undefined {
    // With none thought up, each is tried anyway (as nginx does): the marks may be stale.
    const untried = this.backends.filter((b) => !exclude.has(b));
    const up = untried.filter((b) => b.up);
    const live = up.length ? up : untried;
    if (!live.length) return undefined;
    this.next = (this.next + 1) % live.length;
    return live[this.next];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const tried = new Set<Backend>();
    for (;;) {
      const backend = this.pick(tried);
      if (!backend) return this.unavailable(res, 'every backend failed');
      tried.add(backend);
      const dispatchedAt = Date.now();
      const failed = await this.forward(backend, req, body, res);
      if (Date.now() - dispatchedAt > 3_000) this.slow.push({ method: req.method ?? '', path: req.url ?? '', backend: backend.url, dispatchedAt, at: Date.now() });
      if (!failed) {
        this.counts.set(backend.url, this.forwarded(backend.url) + 1);
        return;
      }
      this.markDown(backend);
      if (IDEMPOTENT.has(req.method ?? '')) {
        this.retried += 1;
        continue;
      }
      this.refusals.push({ method: req.method ?? '', path: req.url ?? '', backend: backend.url, dispatchedAt, at: Date.now() });
      return this.unavailable(res, `${backend.url} failed: ${failed}`);
    }
  }

  /** Resolves with an error message when the backend failed before answering, or undefined once it answered. */
  private forward(backend: Backend, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<string | undefined> {
    return new Promise((resolve) => {
      const target = new URL(req.url ?? '/', backend.url);
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const out = http.request(target, { method: req.method, headers, agent: this.agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        // Cut mid-answer: the client sees the cut too (its status line is out already), as behind nginx.
        answer.on('error', () => res.destroy());
        answer.on('close', () => resolve(undefined));
      });
      out.on('error', (err) => {
        if (res.headersSent) {
          res.destroy();
          resolve(undefined);
        } else resolve(err.message);
      });
      out.end(body);
    });
  }

  private unavailable(res: http.ServerResponse, why: string): void {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: { code: 'upstream_unavailable', message: `balancer: ${why}` } }));
  }
}
