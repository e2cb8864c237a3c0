import {
  DataTypes,
  Model,
  QueryTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
} from 'sequelize';

export class Notification extends Model<InferAttributes<Notification>, InferCreationAttributes<Notification>> {
  declare id: CreationOptional<number>;
  declare userId: number;
  declare kind: string;
  declare payload: Record<string, unknown>;
  declare status: CreationOptional<string>;
  declare createdAt: CreationOptional<Date>;
  declare sentAt: CreationOptional<Date | null>;
  declare eventId: CreationOptional<string | null>;
}

export interface NewNotification {
  eventId: string;
  userId: number;
  kind: string;
  payload: Record<string, unknown>;
}

export interface SentNotification {
  id: number;
  userId: number;
  kind: string;
  payload: Record<string, unknown>;
  status: string;
  createdAt: Date;
  sentAt: Date | null;
}

/** Data access for the `notifications` table; knows the schema, not the HTTP contract. */
export class NotificationsStore {
  private readonly Notification: typeof Notification;

  constructor(private readonly sequelize: Sequelize) {
    // A subclass per instance keeps Sequelize's static state per database (several services in one test process).
    this.Notification = class extends Notification {};
    this.Notification.init(
      {
        id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
        userId: { type: DataTypes.INTEGER, allowNull: false },
        kind: { type: DataTypes.STRING, allowNull: false },
        payload: { type: DataTypes.JSONB, allowNull: false },
        status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'queued' },
        createdAt: DataTypes.DATE,
        sentAt: { type: DataTypes.DATE, allowNull: true },
        eventId: { type: DataTypes.UUID, allowNull: true },
      },
      { sequelize, modelName: 'Notification', tableName: 'notifications', underscored: true, updatedAt: false },
    );
  }

  listForUser(userId: number): Promise<Notification[]> {
    return this.Notification.findAll({ where: { userId }, order: [['id', 'ASC']] });
  }

  /** Inserts unless a row for this event exists already; resolves whether it inserted. */
  async insertOnce(n: NewNotification): Promise<boolean> {
    const rows = await this.sequelize.query(
      `INSERT INTO notifications (event_id, user_id, kind, payload)
       VALUES (:eventId, :userId, :kind, CAST(:payload AS jsonb))
       ON CONFLICT (event_id) DO NOTHING
       RETURNING id`,
      { replacements: { ...n, payload: JSON.stringify(n.payload) }, type: QueryTypes.SELECT },
    );
    return rows.length > 0;
  }

  /**
   * Marks a batch of queued notifications sent. SKIP LOCKED lets several instances dispatch without sending one
   * notification twice.
   */
  async markBatchSent(limit: number): Promise<SentNotification[]> {
    return this.sequelize.query<SentNotification>(
      `UPDATE notifications SET status = 'sent', sent_at = now()
        WHERE id IN (SELECT id FROM notifications WHERE status = 'queued' ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
        RETURNING id, user_id AS "userId", kind, payload, status, created_at AS "createdAt", sent_at AS "sentAt"`,
      { replacements: { limit }, type: QueryTypes.SELECT },
    );
  }
}
