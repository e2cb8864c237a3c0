import type { Sequelize } from 'sequelize';
import { unitOfWork } from '../../../../lib/db/unit-of-work';
import { HttpError, notFound } from '../../../../lib/http/errors';
import type { OutboxStore } from '../outbox/outbox.store';
import type { CallContext } from './call-context';
import { orderEventMessage } from './order-events';
import type { OrderItem, PlaceOrderInput } from './orders.schema';
import type { Order, OrdersStore } from './orders.store';
import type { PaymentsClient } from './payments.client';
import { UpstreamUnavailableError } from './upstream';
import type { UsersClient } from './users.client';

export interface OrderDto {
  id: number;
  userId: number;
  status: string;
  totalCents: number;
  currency: string;
  items: OrderItem[];
  createdAt: Date;
  updatedAt: Date;
}

const toDto = (o: Order): OrderDto => ({
  id: o.id,
  userId: o.userId,
  status: o.status,
  totalCents: o.totalCents,
  currency: o.currency,
  items: o.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
});

/** Test seams: fail order placement at a chosen step to prove what a failure leaves behind. */
export interface OrderFaults {
  /** After the payment and the outbox row, before the commit. */
  beforeCommit?(orderId: number): void | Promise<void>;
}

/**
 * Orders across three databases without a distributed transaction. Placing an order holds ONE local transaction
 * open while payments captures: the order (pending), its final status and its outbox event commit together or not
 * at all, so no half-placed order is ever visible. See the README for the failure cases.
 */
export class OrdersService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly store: OrdersStore,
    private readonly outbox: OutboxStore,
    private readonly users: UsersClient,
    private readonly payments: PaymentsClient,
    private readonly topic: string,
    private readonly faults: OrderFaults = {},
  ) {}

  async place(input: PlaceOrderInput, ctx: CallContext): Promise<OrderDto> {
    const totalCents = input.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
    // Before the transaction: no connection is held while the users service answers.
    await this.users.assertExists(input.userId, ctx.forwardHeaders);
    // Payments known to be down: answer now, without a transaction or using up an order id.
    this.payments.assertNotOpen();
    // Set once the capture is attempted; read after a failure to decide whether money may have moved.
    const capture: { orderId?: number; outcome: CaptureOutcome } = { outcome: 'unknown' };
    try {
      return await unitOfWork(this.sequelize, ctx.dryRun, async (transaction) => {
        // A dry run's id must be one payments has never seen, extracted or not (see migration 0002).
        const dryRunId = ctx.dryRun ? { id: await this.store.nextDryRunId(transaction) } : {};
        const order = await this.store.create({ ...dryRunId, userId: input.userId, status: 'pending', totalCents, items: input.items }, transaction);
        capture.orderId = order.id;
        const payment = await this.payments.capture(order.id, totalCents, ctx.forwardHeaders);
        capture.outcome = payment.status;
        const paid = payment.status === 'captured';
        await this.store.setStatus(order, paid ? 'paid' : 'payment_declined', transaction);
        await this.outbox.add(orderEventMessage(this.topic, paid ? 'order.paid' : 'order.payment_declined', order, ctx.trace), transaction);
        await this.faults.beforeCommit?.(order.id);
        return toDto(order);
      });
    } catch (err) {
      // A dry run's payment was rolled back by payments itself; a decline charged nothing.
      if (capture.orderId !== undefined && !ctx.dryRun && mayHaveCharged(capture.outcome, err)) {
        await this.compensate(capture.orderId, ctx, err);
      }
      throw err;
    }
  }

  async get(id: number): Promise<OrderDto> {
    const order = await this.store.findById(id);
    if (!order) throw notFound('order');
    return toDto(order);
  }

  /** An unknown user simply has no orders: this read never needs the users service. */
  async listForUser(userId: number): Promise<{ items: OrderDto[] }> {
    return { items: (await this.store.listForUser(userId)).map(toDto) };
  }

  /**
   * The refund happens inside the order's transaction (row locked): if payments cannot refund, the order stays paid
   * and the caller gets 503; refunding is idempotent, so the caller's retry is safe.
   */
  cancel(id: number, ctx: CallContext): Promise<OrderDto> {
    return unitOfWork(this.sequelize, ctx.dryRun, async (transaction) => {
      const order = await this.store.findById(id, { transaction, forUpdate: true });
      if (!order) throw notFound('order');
      if (order.status !== 'paid') {
        throw new HttpError(409, 'not_cancellable', `order ${id} is ${order.status}; only paid orders can be cancelled`);
      }
      await this.store.setStatus(order, 'cancelled', transaction);
      const refunded = await this.payments.refund(order.id, ctx.forwardHeaders);
      // The monolith cancels a paid order whose payment is not refundable too (it refunded only captured rows).
      if (!refunded) ctx.log.warn({ orderId: order.id }, 'cancelled an order that has no refundable payment');
      await this.outbox.add(orderEventMessage(this.topic, 'order.cancelled', order, ctx.trace), transaction);
      return toDto(order);
    });
  }

  /**
   * The order was rolled back, but payments may have captured for it (it answered, or a call timed out after being
   * sent). One refund attempt releases the money; if that fails too, the log line is what reconciliation works from.
   */
  private async compensate(orderId: number, ctx: CallContext, cause: unknown): Promise<void> {
    try {
      const refunded = await this.payments.refund(orderId, ctx.forwardHeaders, { retries: 0 });
      ctx.log.warn({ orderId, refunded: Boolean(refunded), cause: String(cause) }, 'order placement rolled back; refunded any payment made for it');
    } catch (err) {
      ctx.log.error({ orderId, err, cause: String(cause) }, 'order placement rolled back and its payment could not be refunded: reconcile payments for this order id');
    }
  }
}

type CaptureOutcome = 'unknown' | 'captured' | 'declined';

function mayHaveCharged(outcome: CaptureOutcome, err: unknown): boolean {
  if (outcome === 'captured') return true;
  if (outcome === 'declined') return false;
  return err instanceof UpstreamUnavailableError && err.maybeDelivered;
}
