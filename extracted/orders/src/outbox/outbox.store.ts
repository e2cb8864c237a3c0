import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

export interface OutboxMessage {
  eventId: string;
  topic: string;
  key: string | null;
  payload: object;
  /** Kafka headers to publish with the event: `event-id`, `event-type` and the W3C trace context. */
  headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  /** bigint, as the decimal string pg returns. */
  id: string;
}

/** The `outbox` table: written in the business transaction, drained by the relay. */
export class OutboxStore {
  constructor(private readonly sequelize: Sequelize) {}

  /** Must run in the transaction of the change it announces: the event exists exactly when the change does. */
  async add(message: OutboxMessage, transaction: Transaction): Promise<void> {
    await this.sequelize.query(
      `INSERT INTO outbox (event_id, topic, key, payload, headers)
       VALUES (:eventId, :topic, :key, CAST(:payload AS jsonb), CAST(:headers AS jsonb))`,
      {
        replacements: {
          eventId: message.eventId,
          topic: message.topic,
          key: message.key,
          payload: JSON.stringify(message.payload),
          headers: JSON.stringify(message.headers),
        },
        transaction,
      },
    );
  }

  /**
   * The oldest unpublished rows, locked until `transaction` ends. SKIP LOCKED: a second relay takes the next rows
   * instead of waiting or publishing the same ones; rows of transactions not yet committed are invisible here.
   */
  claim(limit: number, transaction: Transaction): Promise<OutboxRow[]> {
    return this.sequelize.query<OutboxRow>(
      `SELECT id::text AS id, event_id AS "eventId", topic, key, payload, headers
         FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED`,
      { replacements: { limit }, transaction, type: QueryTypes.SELECT },
    );
  }

  async markPublished(ids: string[], transaction: Transaction): Promise<void> {
    if (!ids.length) return;
    await this.sequelize.query('UPDATE outbox SET published_at = now() WHERE id IN (:ids)', { replacements: { ids }, transaction });
  }
}
