import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import { z } from 'zod';
import type { Logger } from '../../../../lib/logger';
import type { Consumer, EachMessageHandler, Messaging, ReceivedMessage } from '../../../../lib/messaging/types';
import type { NotificationsService } from './notifications.service';

const id = z.number().int().min(1).max(2_147_483_647);

/** The part of the orders service's event contract this service relies on (see the orders README). */
const orderEvent = z.object({
  eventId: z.string().uuid(),
  type: z.string().min(1),
  orderId: id,
  userId: id,
  totalCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: z.string().length(3),
});

export type OrderEvent = z.infer<typeof orderEvent>;

/** Event type → notification kind, the monolith's kinds. Other types are not ours to notify about. */
export const NOTIFICATION_KINDS: Record<string, string> = {
  'order.paid': 'order_paid',
  'order.payment_declined': 'payment_declined',
  'order.cancelled': 'order_cancelled',
};

export function decodeOrderEvent(value: Buffer | null): { event: OrderEvent } | { problem: string } {
  if (value === null) return { problem: 'no value' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { problem: 'value is not JSON' };
  }
  const parsed = orderEvent.safeParse(json);
  if (!parsed.success) return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ') };
  return { event: parsed.data };
}

const tracer = trace.getTracer('notifications');

/**
 * Runs the handler in the trace the event was published in (its `traceparent` header), so the order's trace goes on
 * to the notification's database work and log lines. The Kafka instrumentation does that only for kafkajs's
 * per-message handler; lib/messaging consumes in batches, where it merely links. Without a tracing SDK this is a no-op.
 */
function inMessageTrace(message: ReceivedMessage, fn: () => Promise<void>): Promise<void> {
  const parent = propagation.extract(ROOT_CONTEXT, message.headers);
  return tracer.startActiveSpan(`process ${message.topic}`, { kind: SpanKind.CONSUMER }, parent, async (span) => {
    try {
      await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * One notification per event id, whatever the number of deliveries: the insert is ON CONFLICT (event_id) DO NOTHING.
 * A message that can never be read (a poison message) is logged and skipped, so it cannot hold up its partition; a
 * database failure throws, and the same message is delivered again once the database is back.
 */
export function orderEventsHandler(notifications: NotificationsService, logger: Logger): EachMessageHandler {
  return (message) => inMessageTrace(message, () => handle(notifications, logger, message));
}

async function handle(notifications: NotificationsService, logger: Logger, message: ReceivedMessage): Promise<void> {
  const where = { topic: message.topic, partition: message.partition, offset: message.offset, eventId: message.headers['event-id'] };
  const decoded = decodeOrderEvent(message.value);
  if ('problem' in decoded) {
    logger.warn({ ...where, problem: decoded.problem }, 'skipping an order event that cannot be read');
    return;
  }
  const { event } = decoded;
  const kind = NOTIFICATION_KINDS[event.type];
  if (!kind) {
    logger.debug({ ...where, type: event.type }, 'ignoring an order event type that notifies nobody');
    return;
  }
  const queued = await notifications.enqueueOnce({
    eventId: event.eventId,
    userId: event.userId,
    kind,
    payload: { orderId: event.orderId, totalCents: event.totalCents, currency: event.currency },
  });
  logger.info({ ...where, kind, userId: event.userId, duplicate: !queued }, queued ? 'notification queued' : 'event seen before; nothing queued');
}

export interface OrderEventsConsumerOptions {
  messaging: Messaging;
  notifications: NotificationsService;
  logger: Logger;
  topic: string;
  /** Partitions to create the topic with if it does not exist yet (its owner, the orders service, uses the same). */
  partitions: number;
  groupId: string;
  /** First pause before retrying a failed start; doubles up to 30 s. */
  retryMs?: number;
}

export interface OrderEventsConsumer {
  /** Resolves once the consumer has joined its group (it keeps retrying until then). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Consumes the orders topic in our own group. A new group starts at the oldest retained event: events published
 * before this service first ran are notified too, and reading them again is harmless (idempotent by event id).
 * Kafka being unreachable at start does not stop the HTTP API; the consumer keeps trying in the background.
 */
export function startOrderEventsConsumer(options: OrderEventsConsumerOptions): OrderEventsConsumer {
  const log = options.logger.child({ component: 'order-events-consumer', groupId: options.groupId, topic: options.topic });
  const handler = orderEventsHandler(options.notifications, log);
  let stopped = false;
  let current: Consumer | undefined;
  let pause: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  let markReady = () => undefined as void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      pause = { timer: setTimeout(resolve, ms), resolve };
    });

  void (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await options.messaging.admin.ensureTopics([options.topic], options.partitions);
        if (stopped) return;
        current = options.messaging.consumer(options.groupId);
        await current.run({ topics: [options.topic], fromBeginning: true, eachMessage: handler });
        log.info('consuming order events');
        markReady();
        return;
      } catch (err) {
        if (stopped) return;
        const delay = Math.min((options.retryMs ?? 1000) * 2 ** attempt, 30_000);
        log.warn({ err, retryInMs: delay }, 'could not start consuming order events; retrying');
        await sleep(delay);
      }
    }
  })();

  return {
    ready,
    async stop() {
      stopped = true;
      if (pause) {
        clearTimeout(pause.timer);
        pause.resolve();
      }
      // Waits for the handler in progress; its offset is committed, the rest is for the next member of the group.
      await current?.disconnect().catch((err: unknown) => log.warn({ err }, 'error while leaving the consumer group'));
    },
  };
}
