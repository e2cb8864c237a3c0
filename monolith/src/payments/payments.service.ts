import type { Transaction } from 'sequelize';
import { notFound } from '../../../lib/http/errors';
import type { Models, Payment } from '../db/models';

export interface PaymentDto {
  id: number;
  orderId: number;
  amountCents: number;
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

const toDto = (p: Payment): PaymentDto => ({ id: p.id, orderId: p.orderId, amountCents: p.amountCents, status: p.status, createdAt: p.createdAt, updatedAt: p.updatedAt });

export class PaymentsService {
  constructor(private readonly models: Models) {}

  /** The simulated provider captures up to `limitCents` and declines above it. */
  async capture(orderId: number, amountCents: number, limitCents: number, transaction: Transaction): Promise<PaymentDto> {
    const status = amountCents > limitCents ? 'declined' : 'captured';
    return toDto(await this.models.Payment.create({ orderId, amountCents, status }, { transaction }));
  }

  async refund(orderId: number, transaction: Transaction): Promise<void> {
    await this.models.Payment.update({ status: 'refunded' }, { where: { orderId, status: 'captured' }, transaction });
  }

  async get(id: number): Promise<PaymentDto> {
    const payment = await this.models.Payment.findByPk(id);
    if (!payment) throw notFound('payment');
    return toDto(payment);
  }

  async listForOrder(orderId: number): Promise<{ items: PaymentDto[] }> {
    const rows = await this.models.Payment.findAll({ where: { orderId }, order: [['id', 'ASC']] });
    return { items: rows.map(toDto) };
  }
}
