import { randomUUID } from 'node:crypto';
import CircuitBreaker from 'opossum';
import { Gauge } from 'prom-client';
import { internalHeaders } from '../../../../lib/http/internal-auth';
import { registry } from '../../../../lib/http/metrics';
import type { Logger } from '../../../../lib/logger';
import { exchange, TransientUpstreamError, UpstreamUnavailableError, withRetries, type ExchangeInit, type UpstreamResponse } from './upstream';

export interface BreakerOptions {
  /** How long the circuit stays open before one probe call may try again (half-open). */
  resetMs: number;
  /** Failure rate over the window above which the circuit opens. */
  errorPercent: number;
  /** Calls needed in the window before the rate counts, so one early failure does not open it. */
  volume: number;
  /** The rolling window the rate is computed over. */
  windowMs: number;
}

export interface PaymentsClientOptions {
  /** Base URL of the payments service, e.g. http://127.0.0.1:3103. */
  url: string;
  /** Per attempt, reading the body included. */
  timeoutMs: number;
  /** Extra attempts after a refused/reset connection, a timeout or a 5xx. */
  retries: number;
  breaker: BreakerOptions;
}

export interface Payment {
  id: number;
  orderId: number;
  amountCents: number;
  status: 'captured' | 'declined' | 'refunded';
}

const circuitState = new Gauge({
  name: 'orders_payments_circuit_state',
  help: 'Circuit breaker around the payments service: 0 closed, 1 half-open (probing), 2 open (failing fast).',
  registers: [registry],
});

/** The key payments binds a capture to: one per order, so every retry of that order's capture is the same request. */
export const captureKey = (orderId: number) => `order-${orderId}-capture`;

const isPayment = (body: unknown, orderId: number): body is Payment => {
  const p = body as Partial<Payment> | undefined;
  return Number.isInteger(p?.id) && p?.orderId === orderId && typeof p?.amountCents === 'number' && ['captured', 'declined', 'refunded'].includes(p?.status as string);
};

const isOpenCircuit = (err: unknown) => (err as { code?: unknown })?.code === 'EOPENBREAKER';

/**
 * Captures and refunds through the payments service's internal routes. Every attempt goes through one circuit
 * breaker: once payments keeps failing, calls fail at once with 503 instead of each waiting for its own timeouts,
 * and after `resetMs` a single probe decides whether it closes again.
 */
export class PaymentsClient {
  private readonly base: string;
  private readonly breaker: CircuitBreaker<[string, ExchangeInit], UpstreamResponse>;

  constructor(
    private readonly options: PaymentsClientOptions,
    logger: Logger,
    /** Payments' internal routes take only calls signed with the shared secret. */
    private readonly internalSecret?: string,
  ) {
    this.base = options.url.replace(/\/+$/, '');
    // 4xx answers resolve (payments answered); only refused, reset, timed-out and 5xx calls count as failures.
    // The fetch signal enforces the timeout, so opossum's own timer is off.
    this.breaker = new CircuitBreaker(exchange, {
      name: 'payments',
      timeout: false,
      resetTimeout: options.breaker.resetMs,
      errorThresholdPercentage: options.breaker.errorPercent,
      volumeThreshold: options.breaker.volume,
      rollingCountTimeout: options.breaker.windowMs,
    });
    const log = logger.child({ upstream: 'payments' });
    this.breaker.on('open', () => {
      circuitState.set(2);
      log.warn({ resetMs: options.breaker.resetMs }, 'payments circuit opened: failing fast');
    });
    this.breaker.on('halfOpen', () => {
      circuitState.set(1);
      log.info('payments circuit half-open: the next call probes');
    });
    this.breaker.on('close', () => {
      circuitState.set(0);
      log.info('payments circuit closed');
    });
  }

  /** Fails at once while the circuit is open, so callers can refuse before doing any work of their own. */
  assertNotOpen(): void {
    if (this.breaker.opened) throw new UpstreamUnavailableError('payments', 'circuit open after repeated failures');
  }

  get circuit(): 'closed' | 'half-open' | 'open' {
    if (this.breaker.opened) return 'open';
    return this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /**
   * Safe to retry because of the Idempotency-Key: payments answers a repeat with the first payment (200) instead of
   * charging again (201). Declined is an answer, not an error.
   */
  async capture(orderId: number, amountCents: number, headers: Record<string, string>): Promise<Payment & { status: 'captured' | 'declined' }> {
    const res = await this.call('/internal/payments', {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': captureKey(orderId) },
      body: { orderId, amountCents },
      timeoutMs: this.options.timeoutMs,
    });
    if ((res.status === 201 || res.status === 200) && isPayment(res.body, orderId) && res.body.status !== 'refunded') {
      return res.body as Payment & { status: 'captured' | 'declined' };
    }
    throw new UpstreamUnavailableError('payments', `capture answered ${res.status} ${errorCode(res.body)}`.trim(), true);
  }

  /**
   * Refunding is idempotent on the payments side (refunded stays refunded), so it is retried like a capture.
   * Resolves null when there is nothing to refund: no payment for the order (404) or one that was declined (409).
   */
  async refund(orderId: number, headers: Record<string, string>, options: { retries?: number } = {}): Promise<Payment | null> {
    const res = await this.call(
      `/internal/payments/${orderId}/refund`,
      { method: 'POST', headers, timeoutMs: this.options.timeoutMs },
      options.retries,
    );
    if (res.status === 200 && isPayment(res.body, orderId)) return res.body;
    if (res.status === 404 || res.status === 409) return null;
    throw new UpstreamUnavailableError('payments', `refund answered ${res.status} ${errorCode(res.body)}`.trim(), true);
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private async call(path: string, init: ExchangeInit, retries = this.options.retries): Promise<UpstreamResponse> {
    // Open: fail before anything is sent. Half-open lets exactly one probe through (opossum decides in fire()).
    this.assertNotOpen();
    const requestId = init.headers['x-request-id'] ?? randomUUID();
    init = { ...init, headers: { ...init.headers, ...internalHeaders(this.internalSecret, requestId) } };
    let maybeDelivered = false;
    const attempt = async () => {
      try {
        return await this.breaker.fire(`${this.base}${path}`, init);
      } catch (err) {
        if (err instanceof TransientUpstreamError) maybeDelivered ||= err.maybeDelivered;
        throw err;
      }
    };
    try {
      return await withRetries(attempt, retries);
    } catch (err) {
      if (isOpenCircuit(err)) throw new UpstreamUnavailableError('payments', 'circuit open after repeated failures', maybeDelivered);
      if (err instanceof TransientUpstreamError) throw new UpstreamUnavailableError('payments', err.message, maybeDelivered);
      throw err;
    }
  }
}

function errorCode(body: unknown): string {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : '';
}
