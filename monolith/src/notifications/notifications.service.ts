import type { Sequelize, Transaction } from 'sequelize';
import type { Models, Notification } from '../db/models';

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
  constructor(
    private readonly sequelize: Sequelize,
    private readonly models: Models,
  ) {}

  async enqueue(userId: number, kind: string, payload: Record<string, unknown>, transaction: Transaction): Promise<void> {
    await this.models.Notification.create({ userId, kind, payload }, { transaction });
  }

  async listForUser(userId: number): Promise<{ items: NotificationDto[] }> {
    const rows = await this.models.Notification.findAll({ where: { userId }, order: [['id', 'ASC']] });
    return { items: rows.map(toDto) };
  }

  /**
   * Marks a batch of queued notifications sent. SKIP LOCKED lets several monolith instances dispatch without
   * sending one notification twice.
   */
  async dispatchBatch(limit = 100): Promise<NotificationDto[]> {
    const [rows] = await this.sequelize.query(
      `UPDATE notifications SET status = 'sent', sent_at = now()
        WHERE id IN (SELECT id FROM notifications WHERE status = 'queued' ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
        RETURNING id, user_id AS "userId", kind, payload, status, created_at AS "createdAt", sent_at AS "sentAt"`,
      { replacements: { limit } },
    );
    return rows as NotificationDto[];
  }
}
