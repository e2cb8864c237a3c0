import CircuitBreaker from 'opossum';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  resetMs: number;
  errorPercent: number;
  volume: number;
}

/** Thrown (by our own code path) when a service answered with a 5xx: it counts against the breaker. */
export class UpstreamServerError extends Error {
  constructor(readonly status: number) {
    super(`upstream answered ${status}`);
    this.name = 'UpstreamServerError';
  }
}

/**
 * One circuit breaker per service (opossum). The facade proxies inside `run`; a refused call (open breaker)
 * rejects at once with code EOPENBREAKER, so a dead service costs no timeout once the breaker has opened.
 */
export class UpstreamBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<void>], void>;

  constructor(
    readonly name: string,
    private readonly options: BreakerOptions,
    onStateChange: (name: string, state: BreakerState) => void = () => undefined,
  ) {
    this.breaker = new CircuitBreaker((work: () => Promise<void>) => work(), {
      // Our proxy enforces its own timeout; a second timer here would only race it.
      timeout: false,
      resetTimeout: options.resetMs,
      errorThresholdPercentage: options.errorPercent,
      volumeThreshold: options.volume,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      // Only the counts decide; latency percentiles would keep every call's latency for the 10 s window and sort
      // them all on each failure and, for the per-second snapshot nobody listens to, every second.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      name,
    });
    const report = () => onStateChange(name, this.state);
    this.breaker.on('open', report);
    this.breaker.on('halfOpen', report);
    this.breaker.on('close', report);
  }

  get state(): BreakerState {
    if (this.breaker.halfOpen) return 'half_open';
    return this.breaker.opened ? 'open' : 'closed';
  }

  /** Seconds a client should wait before retrying while the breaker is open. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.resetMs / 1000));
  }

  run(work: () => Promise<void>): Promise<void> {
    return this.breaker.fire(work);
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}

export function isOpenBreakerError(err: unknown): boolean {
  return (err as { code?: string })?.code === 'EOPENBREAKER';
}
