/**
 * The toolkit's error base, in the spirit of KafkaJS's KafkaJSError: `retriable` says whether the same call may
 * succeed later (a server restarting, a lock held by someone else), so callers decide on the class and this flag,
 * never on an error's name string.
 */
export class ToolkitError extends Error {
  readonly retriable: boolean;

  /** Without an explicit `retriable`, the cause decides (see `isRetriable`). */
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // The subclass's own name, without every subclass having to set it.
    this.name = new.target.name;
    this.retriable = options.retriable ?? isRetriable(options.cause);
  }
}

/**
 * Whether an error may succeed later. The root of the `cause` chain decides: a client library wraps a retriable
 * failure in a non-retriable "retries exhausted" error once its own retries run out, but for our caller a broker
 * that was down may be up on the next call.
 */
export function isRetriable(err: unknown): boolean {
  let e = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 10; depth++) {
    const next = (e as { cause?: unknown }).cause;
    if (next === undefined || next === e) return (e as { retriable?: unknown }).retriable === true;
    e = next;
  }
  return false;
}

/** A timeout from `AbortSignal.timeout` (fetch rejects with a DOMException named TimeoutError, which has no class of its own). */
export function isTimeout(err: unknown): boolean {
  return err instanceof DOMException ? err.name === 'TimeoutError' : err instanceof Error && err.name === 'TimeoutError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
