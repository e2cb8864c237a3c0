import type { ChangeRecord } from './change-events';
import { transactionTopicFor, type TransactionBlock, type TransactionEvent } from './envelope';

/**
 * Debezium's transaction metadata (`provide.transaction.metadata=true`): a BEGIN before a transaction's first event
 * and an END after its last, on `<prefix>.transaction`, and a `transaction` block in each change event. Ids are
 * `<txId>:<lsn>` with the LSN of what the id is on (BEGIN: the transaction's first change; END: its commit; an
 * event: its own), as Debezium 3.6's PostgreSQL connector writes them. Transactions without events get neither.
 */
export class TransactionMetadata {
  private total = 0;
  private readonly perTable = new Map<string, number>();

  constructor(
    private readonly prefix: string,
    private readonly txId: number,
    private readonly tsMs: number,
  ) {}

  get started(): boolean {
    return this.total > 0;
  }

  begin(lsn: number): ChangeRecord {
    return this.record({ status: 'BEGIN', id: `${this.txId}:${lsn}`, event_count: null, data_collections: null, ts_ms: this.tsMs });
  }

  /** The block for the next event of `dataCollection` (`schema.table`). */
  next(dataCollection: string, lsn: number): TransactionBlock {
    const inTable = (this.perTable.get(dataCollection) ?? 0) + 1;
    this.perTable.set(dataCollection, inTable);
    return { id: `${this.txId}:${lsn}`, total_order: ++this.total, data_collection_order: inTable };
  }

  end(commitLsn: number): ChangeRecord {
    const collections = [...this.perTable].map(([data_collection, event_count]) => ({ data_collection, event_count }));
    return this.record({ status: 'END', id: `${this.txId}:${commitLsn}`, event_count: this.total, data_collections: collections, ts_ms: this.tsMs });
  }

  private record(event: TransactionEvent): ChangeRecord {
    return { topic: transactionTopicFor(this.prefix), key: JSON.stringify({ id: event.id }), value: JSON.stringify(event) };
  }
}
