import type { Admin, Kafka } from 'kafkajs';
import { retry } from '../retry';
import { MessagingAdminError, errorMessage } from './errors';
import type { MessagingAdmin } from './types';

export interface KafkaAdmin extends MessagingAdmin {
  disconnect(): Promise<void>;
}

export function createKafkaAdmin(kafka: Kafka): KafkaAdmin {
  let connecting: Promise<Admin> | undefined;

  const connect = () =>
    (connecting ??= (async () => {
      const client = kafka.admin();
      try {
        await client.connect();
      } catch (err) {
        connecting = undefined;
        throw err;
      }
      return client;
    })());

  return {
    async ensureTopics(names: string[], partitions = 1): Promise<void> {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new MessagingAdminError(`partitions must be a positive integer, got ${partitions}`, { retriable: false });
      }
      const topics = [...new Set(names)];
      if (!topics.length) return;
      try {
        const client = await connect();
        // Resolves false instead of failing when the topics exist already: creating is the idempotent operation.
        // Right after a creation the broker can still answer the leader look-up with UNKNOWN_TOPIC_OR_PARTITION
        // (its metadata lags the controller's; kafkajs waits out only LEADER_NOT_AVAILABLE): asking again settles it.
        await retry(
          () =>
            client.createTopics({
              topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
              waitForLeaders: true,
            }),
          { initialMs: 100, maxMs: 1_000, budgetMs: 15_000, retriable: isRetriableKafkaError },
        );
      } catch (err) {
        throw new MessagingAdminError(`could not create topics ${topics.join(', ')}: ${errorMessage(err)}`, { cause: err });
      }
    },

    async endOffsets(topic: string): Promise<{ partition: number; offset: string }[]> {
      try {
        const client = await connect();
        const offsets = await client.fetchTopicOffsets(topic);
        return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
      } catch (err) {
        throw new MessagingAdminError(`could not read the end offsets of ${topic}: ${errorMessage(err)}`, { cause: err });
      }
    },

    async disconnect(): Promise<void> {
      const pending = connecting;
      connecting = undefined;
      if (!pending) return;
      const client = await pending.catch(() => undefined);
      await client?.disconnect();
    },
  };
}

/** kafkajs marks the protocol's retriable errors (UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER, …) and its own. */
const isRetriableKafkaError = (err: unknown) => (err as { retriable?: unknown })?.retriable === true;
