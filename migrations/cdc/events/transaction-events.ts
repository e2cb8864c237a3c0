import type { ChangeRecord } from './change-events';
import { TRANSACTION_SCHEMAS, withSchema } from './connect-schema';
import { transactionTopicFor, type TransactionBlock, type TransactionEvent } from './envelope';

/**
 * Debezium's transaction metadata (`provide.transaction.metadata=true`): a BEGIN before a transaction's first event
 * and an END after its last, on `<prefix>.transaction`, and a `transaction` block in each change event. Ids are
 * `<txId>:<lsn>` with the LSN of what the id is on (BEGIN: the transaction's first change; END: its commit; an
 * event: its own), as Debezium 3.6's PostgreSQL connector writes them. Transactions without events get neither.
 */
/**
 * The data collection a transaction's `<prefix>.message` events are counted under in its END. Debezium 3.6.1 writes a
 * Java object's identity here (this name, then `@` and a hash that differs from run to run): we write the name alone.
 */
export const MESSAGE_DATA_COLLECTION = 'io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId';

export class TransactionMetadata {
  private total = 0;
  private readonly perTable = new Map<string, number>();

  constructor(
    private readonly prefix: string,
    private readonly txId: number,
    private readonly tsMs: number,
    /** `key.converter.schemas.enable` / `value.converter.schemas.enable`. */
    private readonly schemas: { key: boolean; value: boolean } = { key: false, value: false },
  ) {}

  get started(): boolean {
    return this.total > 0;
  }

  begin(lsn: number): ChangeRecord {
    return this.record({ status: 'BEGIN', id: `${this.txId}:${lsn}`, event_count: null, data_collections: null, ts_ms: this.tsMs });
  }

  /** The block for the next event of `dataCollection` (`schema.table`, or MESSAGE_DATA_COLLECTION). */
  next(dataCollection: string, lsn: number): TransactionBlock {
    const inTable = (this.perTable.get(dataCollection) ?? 0) + 1;
    this.perTable.set(dataCollection, inTable);
    return { id: `${this.txId}:${lsn}`, total_order: ++this.total, data_collection_order: inTable };
  }

  end(commitLsn: number): ChangeRecord {
    // Debezium lists the messages' collection after the tables, wherever the messages were.
    const collections = [...this.perTable]
      .sort(([a], [b]) => Number(a === MESSAGE_DATA_COLLECTION) - Number(b === MESSAGE_DATA_COLLECTION))
      .map(([data_collection, event_count]) => ({ data_collection, event_count }));
    return this.record({ status: 'END', id: `${this.txId}:${commitLsn}`, event_count: this.total, data_collections: collections, ts_ms: this.tsMs });
  }

  private record(event: TransactionEvent): ChangeRecord {
    const key = JSON.stringify({ id: event.id });
    const value = JSON.stringify(event);
    return {
      topic: transactionTopicFor(this.prefix),
      key: this.schemas.key ? withSchema(TRANSACTION_SCHEMAS.key, key) : key,
      value: this.schemas.value ? withSchema(TRANSACTION_SCHEMAS.value, value) : value,
    };
  }
}
