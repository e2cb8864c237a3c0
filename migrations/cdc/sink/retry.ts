import { SinkStoppedError, SinkUnavailableError } from './errors';

export interface RetryPolicy {
  /** First pause after a failure; doubles up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /**
   * How long one call keeps retrying before giving the batch back to the consumer (which redelivers it). Kept below
   * the group's session timeout: the consumer does not heartbeat while we wait.
   */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 5_000, budgetMs: 20_000 };

/** Waits `ms` or until the signal aborts, whichever comes first. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Retries `fn` with exponential backoff and jitter; errors `isFatal` accepts are rethrown at once. */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry: (err: unknown, attempt: number, delayMs: number) => void,
  isFatal: (err: unknown) => boolean = () => false,
): Promise<T> {
  const deadline = Date.now() + policy.budgetMs;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw new SinkStoppedError();
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw new SinkStoppedError();
      if (isFatal(err)) throw err;
      if (Date.now() >= deadline) throw new SinkUnavailableError(`target still failing after ${attempt} attempts`, { cause: err });
      const base = Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
      const delay = Math.round(base / 2 + (Math.random() * base) / 2);
      onRetry(err, attempt, delay);
      await pause(delay, signal);
    }
  }
}
