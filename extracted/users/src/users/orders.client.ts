import { HttpError } from '../../../../lib/http/errors';
import { isTimeout } from '../../../../lib/errors';

export interface OrdersClientOptions {
  /** Base URL of the orders service, e.g. http://127.0.0.1:3102. */
  url: string;
  timeoutMs: number;
}

const unavailable = (why: string) =>
  new HttpError(503, 'upstream_unavailable', `the orders service could not tell whether the user has orders (${why}); nothing was deleted`);

/**
 * Asks the orders service, which owns orders now, whether a user has any. Any answer other than a well-formed 200
 * is "don't know", and the caller must then refuse rather than delete blindly.
 */
export class OrdersClient {
  private readonly base: string;

  constructor(private readonly options: OrdersClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async userHasOrders(userId: number, headers: Record<string, string>): Promise<boolean> {
    let res: Response;
    let body: unknown;
    try {
      // The timeout covers reading the body too: a service that sends headers and then stalls is still down.
      res = await fetch(`${this.base}/api/users/${userId}/orders`, {
        headers: { accept: 'application/json', ...headers },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      body = await res.json().catch(() => undefined);
    } catch (err) {
      const timedOut = isTimeout(err);
      throw unavailable(timedOut ? `no answer within ${this.options.timeoutMs} ms` : 'unreachable');
    }
    if (res.status !== 200) throw unavailable(`status ${res.status}`);
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items)) throw unavailable('unexpected response');
    return items.length > 0;
  }
}
