import { randomUUID } from 'node:crypto';
import type { OutboxMessage } from '../outbox/outbox.store';
import type { Order } from './orders.store';

export type OrderEventType = 'order.paid' | 'order.payment_declined' | 'order.cancelled';

/**
 * The published contract of `shop.orders.events` (JSON value, key = order id). Consumers dedupe on `eventId`: the
 * outbox delivers at least once.
 */
export interface OrderEvent {
  eventId: string;
  type: OrderEventType;
  orderId: number;
  userId: number;
  totalCents: number;
  currency: string;
  occurredAt: string;
}

export function orderEventMessage(topic: string, type: OrderEventType, order: Order, trace: Record<string, string>): OutboxMessage {
  const event: OrderEvent = {
    eventId: randomUUID(),
    type,
    orderId: order.id,
    userId: order.userId,
    totalCents: order.totalCents,
    currency: order.currency,
    occurredAt: new Date().toISOString(),
  };
  return {
    eventId: event.eventId,
    topic,
    // Keyed by order: all events of one order land on one partition, in the order they were written.
    key: String(order.id),
    payload: event,
    headers: { 'event-id': event.eventId, 'event-type': type, ...trace },
  };
}
