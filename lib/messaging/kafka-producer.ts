import { Partitioners, type ICustomPartitioner, type Kafka } from 'kafkajs';
import { MessagingProduceError, errorMessage } from './errors';
import { toKafkaMessage } from './kafka-codec';
import type { Message, Producer, ProducerOptions } from './types';

/** acks=all: a send resolves only once every in-sync replica has the messages, so a broker loss cannot drop them. */
const ACKS_ALL = -1;

/**
 * kafkajs' DefaultPartitioner (Java-compatible murmur2: same key, same partition as Java clients), without the hash
 * for a topic of one partition, where every answer is that partition anyway. The hash works on kafkajs' Long objects,
 * several per 4 bytes of key: per record it cost more than the rest of the partitioning, and a schema-carrying key
 * is hundreds of bytes.
 */
export const partitioner: ICustomPartitioner = () => {
  const java = Partitioners.DefaultPartitioner();
  return (args) => {
    const { partitionMetadata, message } = args;
    if (partitionMetadata.length === 1 && (message.partition === null || message.partition === undefined)) return partitionMetadata[0].partitionId;
    return java(args);
  };
};

export function createKafkaProducer(kafka: Kafka, options: ProducerOptions = {}): Producer {
  const producer = kafka.producer({
    // Explicit, so the partitioner never changes under us with a client upgrade.
    createPartitioner: partitioner,
    idempotent: options.idempotent ?? false,
  });
  let connecting: Promise<void> | undefined;
  let closed = false;

  const connect = () =>
    (connecting ??= producer.connect().catch((err: unknown) => {
      connecting = undefined; // the next send tries again
      throw err;
    }));

  return {
    async send(topic: string, messages: Message[]): Promise<void> {
      if (closed) throw new MessagingProduceError(topic, 'producer is disconnected', { retriable: false });
      if (!messages.length) return;
      try {
        await connect();
        await producer.send({ topic, acks: ACKS_ALL, messages: messages.map(toKafkaMessage) });
      } catch (err) {
        throw new MessagingProduceError(topic, `sending ${messages.length} message(s) to ${topic} failed: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    },

    async disconnect(): Promise<void> {
      closed = true;
      if (!connecting) return;
      await connecting.catch(() => undefined);
      await producer.disconnect();
    },
  };
}
