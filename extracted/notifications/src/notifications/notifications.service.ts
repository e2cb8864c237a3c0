import type { Notification, NotificationsStore, NewNotification, SentNotification } from './notifications.store';

export interface NotificationDto {
  id: number;
  userId: number;
  kind: string;
  payload: Record<string, unknown>;
  status: string;
  createdAt: Date;
  sentAt: Date | null;
}

const toDto = (n: Notification): NotificationDto => ({
  id: n.id,
  userId: n.userId,
  kind: n.kind,
  payload: n.payload,
  status: n.status,
  createdAt: n.createdAt,
  sentAt: n.sentAt ?? null,
});

export class NotificationsService {
  constructor(private readonly store: NotificationsStore) {}

  async listForUser(userId: number): Promise<{ items: NotificationDto[] }> {
    return { items: (await this.store.listForUser(userId)).map(toDto) };
  }

  /** Queues a notification for an event; the same event again queues nothing. Resolves whether it queued one. */
  enqueueOnce(n: NewNotification): Promise<boolean> {
    return this.store.insertOnce(n);
  }

  dispatchBatch(limit = 100): Promise<SentNotification[]> {
    return this.store.markBatchSent(limit);
  }
}
