import type { Sequelize, Transaction } from 'sequelize';
import { HttpError, notFound } from '../../../lib/http/errors';
import type { Models, Order, OrderItem } from '../db/models';
import type { PaymentsService } from '../payments/payments.service';
import type { NotificationsService } from '../notifications/notifications.service';
import { DECLINE_ABOVE_CENTS, type PlaceOrderInput } from './orders.schema';

export interface OrderDto {
  id: number;
  userId: number;
  status: string;
  totalCents: number;
  currency: string;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
  createdAt: Date;
  updatedAt: Date;
}

const toDto = (o: Order, items: OrderItem[]): OrderDto => ({
  id: o.id,
  userId: o.userId,
  status: o.status,
  totalCents: o.totalCents,
  currency: o.currency,
  items: [...items].sort((a, b) => a.position - b.position).map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
});

/** Test seam: lets a test fail the transaction at a chosen step to prove atomicity. */
export interface OrderFaults {
  afterOrderInsert?(): void | Promise<void>;
}

/**
 * The coupled heart of the monolith: placing an order checks the user, captures the payment and queues a
 * notification in ONE database transaction. This coupling is what the extraction has to untangle.
 */
export class OrdersService {
  constructor(
    private readonly sequelize: Sequelize,
    private readonly models: Models,
    private readonly payments: PaymentsService,
    private readonly notifications: NotificationsService,
    private readonly faults: OrderFaults = {},
  ) {}

  async place(input: PlaceOrderInput): Promise<OrderDto> {
    const total = input.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0);
    return this.sequelize.transaction(async (transaction) => {
      // FOR KEY SHARE: a concurrent DELETE of this user waits for us instead of orphaning the order.
      const user = await this.models.User.findByPk(input.userId, { transaction, lock: transaction.LOCK.KEY_SHARE });
      if (!user) throw new HttpError(422, 'unknown_user', `user ${input.userId} does not exist`);
      const order = await this.models.Order.create({ userId: input.userId, status: 'pending', totalCents: total }, { transaction });
      await this.faults.afterOrderInsert?.();
      const items = await this.models.OrderItem.bulkCreate(
        input.items.map((i, position) => ({ orderId: order.id, position, ...i })),
        { transaction, returning: true },
      );
      const payment = await this.payments.capture(order.id, total, DECLINE_ABOVE_CENTS, transaction);
      const paid = payment.status === 'captured';
      order.status = paid ? 'paid' : 'payment_declined';
      await order.save({ transaction });
      await this.notifications.enqueue(
        input.userId,
        paid ? 'order_paid' : 'payment_declined',
        { orderId: order.id, totalCents: total, currency: order.currency },
        transaction,
      );
      return toDto(order, items);
    });
  }

  async get(id: number): Promise<OrderDto> {
    const order = await this.models.Order.findByPk(id, { include: [{ model: this.models.OrderItem, as: 'items' }] });
    if (!order) throw notFound('order');
    return toDto(order, order.items ?? []);
  }

  /** An unknown user simply has no orders: this read never needs the users context. */
  async listForUser(userId: number): Promise<{ items: OrderDto[] }> {
    const orders = await this.models.Order.findAll({
      where: { userId },
      include: [{ model: this.models.OrderItem, as: 'items' }],
      order: [
        ['createdAt', 'DESC'],
        ['id', 'DESC'],
      ],
    });
    return { items: orders.map((o) => toDto(o, o.items ?? [])) };
  }

  async cancel(id: number): Promise<OrderDto> {
    return this.sequelize.transaction(async (transaction: Transaction) => {
      const order = await this.models.Order.findByPk(id, { transaction, lock: transaction.LOCK.UPDATE });
      if (!order) throw notFound('order');
      if (order.status !== 'paid') {
        throw new HttpError(409, 'not_cancellable', `order ${id} is ${order.status}; only paid orders can be cancelled`);
      }
      order.status = 'cancelled';
      await order.save({ transaction });
      await this.payments.refund(order.id, transaction);
      await this.notifications.enqueue(order.userId, 'order_cancelled', { orderId: order.id, totalCents: order.totalCents, currency: order.currency }, transaction);
      const items = await this.models.OrderItem.findAll({ where: { orderId: id }, transaction });
      return toDto(order, items);
    });
  }
}
