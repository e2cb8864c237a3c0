/**
 * The one back-off: exponential with jitter, bounded by a time budget or a number of attempts, cut short by an
 * AbortSignal. Everything in the toolkit that waits and tries again goes through here.
 */
export interface BackoffPolicy {
  /** First pause after a failure; doubles up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /** Jitter: each pause is drawn from [base × (1 − jitter), base]; 0 waits exactly `base`. */
  jitter?: number;
}

/** The pause before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const jitter = policy.jitter ?? 0.5;
  return Math.round(base * (1 - jitter) + random() * base * jitter);
}

/** Waits `ms`, or less if the signal aborts first (it never rejects: the caller looks at the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions extends BackoffPolicy {
  /** Stop trying after this long (the last error is thrown). */
  budgetMs?: number;
  /** Stop trying after this many attempts. */
  attempts?: number;
  signal?: AbortSignal;
  /** Errors it refuses are thrown at once (default: everything is retried). */
  retriable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` until it resolves, backing off between failures; throws the last error once the budget is spent. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = options.budgetMs === undefined ? Infinity : Date.now() + options.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const spent = Date.now() >= deadline || (options.attempts !== undefined && attempt >= options.attempts);
      if (options.signal?.aborted || spent || (options.retriable && !options.retriable(err))) throw err;
      const delay = Math.min(backoffDelay(attempt, options), Math.max(0, deadline - Date.now()));
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes (then false): a bounded wait for something another
 * process does, where there is no event to wait on.
 */
export async function pollUntil(check: () => Promise<boolean> | boolean, options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline || options.signal?.aborted) return false;
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())), options.signal);
  }
}
