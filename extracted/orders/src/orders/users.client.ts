import { HttpError } from '../../../../lib/http/errors';
import { exchange, TransientUpstreamError, UpstreamUnavailableError, withRetries } from './upstream';

export interface UsersClientOptions {
  /** Base URL of the users service, e.g. http://127.0.0.1:3101. */
  url: string;
  /** Per attempt, reading the body included. */
  timeoutMs: number;
  /** Extra attempts after a refused/reset connection, a timeout or a 5xx. The call is a GET: repeating it is safe. */
  retries: number;
}

/** Asks the users service, which owns users now, whether a user exists before an order is placed for them. */
export class UsersClient {
  private readonly base: string;

  constructor(private readonly options: UsersClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** 422 `unknown_user` when the users service says 404; 503 `upstream_unavailable` when it cannot say. */
  async assertExists(userId: number, headers: Record<string, string>): Promise<void> {
    let res;
    try {
      res = await withRetries(
        () => exchange(`${this.base}/api/users/${userId}`, { method: 'GET', headers, timeoutMs: this.options.timeoutMs }),
        this.options.retries,
      );
    } catch (err) {
      if (err instanceof TransientUpstreamError) throw new UpstreamUnavailableError('users', err.message);
      throw err;
    }
    if (res.status === 404) throw new HttpError(422, 'unknown_user', `user ${userId} does not exist`);
    if (res.status !== 200) throw new UpstreamUnavailableError('users', `unexpected status ${res.status}`);
    if ((res.body as { id?: unknown } | undefined)?.id !== userId) throw new UpstreamUnavailableError('users', 'unexpected response');
  }
}
