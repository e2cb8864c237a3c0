/**
 * Our messaging contract. Code outside lib/messaging depends on these types only, so kafkajs (in maintenance mode)
 * can be replaced by another client without touching producers and consumers.
 */

/**
 * Header values are plain UTF-8 strings on our side. Kafka allows bytes and repeated keys; when a received header
 * repeats, the last value wins (what Kafka's own `lastHeader` does).
 */
export type Headers = Record<string, string>;

export interface Message {
  /** Messages with the same key go to the same partition, so their order is kept. */
  key: string | null;
  /** null is a tombstone on a compacted topic. */
  value: Buffer | string | null;
  headers?: Headers;
}

export interface ReceivedMessage {
  topic: string;
  partition: number;
  /** A 64-bit integer as a decimal string: JavaScript numbers cannot hold every offset. */
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Headers;
  /** When the producer (or the broker, per topic config) stamped the message, in ms since the epoch. */
  timestamp: number;
}

export interface ReceivedBatch {
  topic: string;
  partition: number;
  /** In offset order, never empty. */
  messages: ReceivedMessage[];
  /**
   * The partition's end offset (the next offset to be written) when the batch was fetched: the batch reached the end
   * of the partition, as far as the broker knew, when its last offset + 1 equals it.
   */
  highWatermark: string;
}

export interface ProducerOptions {
  /** The broker drops duplicates caused by the client's own retries (per partition, for this producer's lifetime). */
  idempotent?: boolean;
}

export interface Producer {
  /**
   * Resolves once every message is written to all in-sync replicas (acks=all). Connects on first use. Throws
   * `MessagingProduceError`; some of the messages may have been written anyway.
   */
  send(topic: string, messages: Message[]): Promise<void>;
  disconnect(): Promise<void>;
}

export type EachMessageHandler = (message: ReceivedMessage) => Promise<void>;
/** What a batch handler can do besides handling messages. */
export interface BatchControl {
  /**
   * Tells the group this member is alive, during long work on one batch (retries included): a member silent for the
   * session timeout is dropped and its partitions move. Cheap to call often; at most one heartbeat per interval is
   * sent. Rejects when the group is rebalancing: the batch will be delivered again, so stop working on it.
   */
  heartbeat(): Promise<void>;
}

export type EachBatchHandler = (batch: ReceivedBatch, control: BatchControl) => Promise<void>;

interface RunOptionsBase {
  topics: string[];
  /**
   * Where a group without a committed offset starts: at the oldest retained message (true) or only at messages
   * produced from now on (false, the default). A committed offset always wins.
   */
  fromBeginning?: boolean;
}

/**
 * Delivery is at least once, and the commit follows the handler:
 * - `eachMessage`: when the handler resolves, the message's offset is committed before the next message of that
 *   partition is handed over; when it throws, nothing is committed and that same message is delivered again after a
 *   back-off (to this member or, after a rebalance, another member of the group). Later messages of the partition
 *   wait meanwhile, so a message that always fails stops its partition: handle poison messages in the handler.
 * - `eachBatch`: the same for a whole batch of one partition, committed once; cheaper per message, but a throw
 *   redelivers the whole batch.
 * A crash between the handler's side effects and the commit also redelivers: handlers must be idempotent.
 */
export type ConsumerRunOptions = RunOptionsBase &
  ({ eachMessage: EachMessageHandler; eachBatch?: never } | { eachBatch: EachBatchHandler; eachMessage?: never });

export interface Consumer {
  readonly groupId: string;
  /** Resolves once the consumer is connected, subscribed and has joined its group; handlers then run in background. */
  run(options: ConsumerRunOptions): Promise<void>;
  /** Waits for the handler in progress, leaves the group (its partitions move to other members) and disconnects. */
  disconnect(): Promise<void>;
}

export interface MessagingAdmin {
  /** Creates the topics that do not exist yet; existing topics are left as they are, whatever their partitions. */
  ensureTopics(names: string[], partitions?: number): Promise<void>;
  /**
   * Per partition, the offset the next message will get (Kafka's high watermark): a consumer has read everything
   * when its last processed offset is this minus one.
   */
  endOffsets(topic: string): Promise<{ partition: number; offset: string }[]>;
}

export interface Messaging {
  producer(options?: ProducerOptions): Producer;
  consumer(groupId: string): Consumer;
  admin: MessagingAdmin;
  /** Disconnects every producer, consumer and the admin client created from this instance. */
  disconnect(): Promise<void>;
}
