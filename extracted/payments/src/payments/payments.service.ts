import { createHash } from 'node:crypto';
import { UniqueConstraintError, type Sequelize } from 'sequelize';
import { unitOfWork } from '../../../../lib/db/unit-of-work';
import { HttpError, notFound } from '../../../../lib/http/errors';
import { DECLINE_ABOVE_CENTS, type CaptureInput } from './payments.schema';
import type { Payment, PaymentsStore } from './payments.store';

export interface PaymentDto {
  id: number;
  orderId: number;
  amountCents: number;
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface CaptureResult {
  payment: PaymentDto;
  /** True when the key had been used before and this is the payment that first request produced. */
  replayed: boolean;
}

const toDto = (p: Payment): PaymentDto => ({ id: p.id, orderId: p.orderId, amountCents: p.amountCents, status: p.status, createdAt: p.createdAt, updatedAt: p.updatedAt });

/** The workshop's planted bugs of this service (`strangler workshop bug <name> on|off`; off outside a workshop). */
export const PAYMENTS_BUGS = [{ name: 'payments-amount-rounded', description: 'public reads round amountCents to whole currency units' }];

/**
 * What a key is bound to: the request after validation. The limit stays in the hash (it once was a field, with this
 * default), so keys stored before keep matching their retries.
 */
const fingerprint = (input: CaptureInput): string =>
  createHash('sha256').update(JSON.stringify([input.orderId, input.amountCents, DECLINE_ABOVE_CENTS])).digest('hex');

export class PaymentsService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly store: PaymentsStore,
    private readonly planted: (bug: string) => boolean = () => false,
  ) {}

  /** What the public routes answer (the internal capture and refund routes are never affected). */
  private publicDto(p: Payment): PaymentDto {
    const dto = toDto(p);
    return this.planted('payments-amount-rounded') ? { ...dto, amountCents: Math.round(dto.amountCents / 100) * 100 } : dto;
  }

  /** The simulated provider captures up to DECLINE_ABOVE_CENTS and declines above it. At most one payment per key and per order. */
  capture(key: string, input: CaptureInput, dryRun: boolean): Promise<CaptureResult> {
    const requestHash = fingerprint(input);
    return unitOfWork(this.sequelize, dryRun, async (transaction) => {
      await this.store.lockKey(key, transaction);
      const seen = await this.store.findKey(key, transaction);
      if (seen) {
        if (seen.requestHash !== requestHash) {
          throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used for a different request');
        }
        const first = await this.store.findById(seen.paymentId, transaction);
        if (!first) throw new Error(`idempotency key ${key} points at missing payment ${seen.paymentId}`);
        return { payment: toDto(first), replayed: true };
      }
      const status = input.amountCents > DECLINE_ABOVE_CENTS ? 'declined' : 'captured';
      let payment: Payment;
      try {
        payment = await this.store.create({ orderId: input.orderId, amountCents: input.amountCents, status }, transaction);
      } catch (err) {
        if (err instanceof UniqueConstraintError) {
          throw new HttpError(409, 'payment_exists', `order ${input.orderId} already has a payment (made with another Idempotency-Key)`);
        }
        throw err;
      }
      await this.store.saveKey({ key, requestHash, paymentId: payment.id }, transaction);
      return { payment: toDto(payment), replayed: false };
    });
  }

  /** Refunding is idempotent by nature: a refunded payment stays refunded and is answered as it is. */
  refund(orderId: number, dryRun: boolean): Promise<PaymentDto> {
    return unitOfWork(this.sequelize, dryRun, async (transaction) => {
      const payment = await this.store.findForOrderForUpdate(orderId, transaction);
      if (!payment) throw notFound('payment');
      if (payment.status === 'refunded') return toDto(payment);
      if (payment.status !== 'captured') {
        throw new HttpError(409, 'not_refundable', `the payment for order ${orderId} is ${payment.status}; only captured payments can be refunded`);
      }
      payment.status = 'refunded';
      return toDto(await payment.save({ transaction }));
    });
  }

  async get(id: number): Promise<PaymentDto> {
    const payment = await this.store.findById(id);
    if (!payment) throw notFound('payment');
    return this.publicDto(payment);
  }

  async listForOrder(orderId: number): Promise<{ items: PaymentDto[] }> {
    return { items: (await this.store.listForOrder(orderId)).map((p) => this.publicDto(p)) };
  }
}
