import { retry, type BackoffPolicy } from '../../../lib/retry';
import { SinkStoppedError, SinkUnavailableError } from './errors';

export interface RetryPolicy extends BackoffPolicy {
  /**
   * How long one call keeps retrying before giving the batch back to the consumer (which redelivers it). Kept below
   * the group's session timeout: the consumer does not heartbeat while we wait.
   */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 5_000, budgetMs: 20_000 };

/**
 * Retries `fn` with the toolkit's back-off; errors `isFatal` accepts are rethrown at once, `stop()` ends the wait
 * with SinkStoppedError, and a spent budget is SinkUnavailableError (the consumer redelivers the batch).
 */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry: (err: unknown, attempt: number, delayMs: number) => void,
  isFatal: (err: unknown) => boolean = () => false,
): Promise<T> {
  let attempts = 0;
  try {
    return await retry(
      (attempt) => {
        if (signal.aborted) throw new SinkStoppedError();
        attempts = attempt;
        return fn();
      },
      { ...policy, signal, onRetry, retriable: (err) => !(err instanceof SinkStoppedError) && !isFatal(err) },
    );
  } catch (err) {
    if (signal.aborted || err instanceof SinkStoppedError) throw new SinkStoppedError();
    if (isFatal(err)) throw err;
    throw new SinkUnavailableError(`target still failing after ${attempts} attempts`, { cause: err });
  }
}
