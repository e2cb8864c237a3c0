import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../logger';
import { MessagingError, errorMessage } from './errors';
import { createKafkaAdmin } from './kafka-admin';
import { createKafkaConsumer, type KafkaConsumerOptions } from './kafka-consumer';
import { kafkaLogCreator } from './kafka-log';
import { createKafkaProducer } from './kafka-producer';
import type { Consumer, Messaging, Producer, ProducerOptions } from './types';

export interface KafkaMessagingOptions {
  /** `["host:port", …]` or the comma-separated form of `KAFKA_BROKERS` (see `kafkaBrokersFromEnv`). */
  brokers: string[] | string;
  /** Names this process in broker logs and quotas. */
  clientId: string;
  logger: Logger;
  consumer?: KafkaConsumerOptions;
}

function brokerArray(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(',')).map((b) => b.trim()).filter(Boolean);
  if (!list.length) throw new MessagingError('no Kafka broker given', { retriable: false });
  return list;
}

/** Our messaging interface backed by kafkajs. Clients connect on first use; `disconnect` closes all of them. */
export function createMessaging(options: KafkaMessagingOptions): Messaging {
  const kafka = new Kafka({
    brokers: brokerArray(options.brokers),
    clientId: options.clientId,
    // kafkajs logs every retried request at INFO/WARN; only real failures are worth a line in our logs.
    logLevel: logLevel.ERROR,
    logCreator: kafkaLogCreator(options.logger),
  });
  const admin = createKafkaAdmin(kafka);
  const producers = new Set<Producer>();
  const consumers = new Set<Consumer>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new MessagingError('messaging is disconnected', { retriable: false });
  };

  return {
    producer(producerOptions?: ProducerOptions): Producer {
      assertOpen();
      const producer = createKafkaProducer(kafka, producerOptions);
      producers.add(producer);
      return producer;
    },

    consumer(groupId: string): Consumer {
      assertOpen();
      const consumer = createKafkaConsumer(kafka, groupId, options.logger, options.consumer);
      consumers.add(consumer);
      return consumer;
    },

    admin,

    async disconnect(): Promise<void> {
      closed = true;
      // Consumers first: a handler still running may want to produce.
      const steps = [[...consumers], [...producers], [admin]];
      const failures: unknown[] = [];
      for (const step of steps) {
        const results = await Promise.allSettled(step.map((client) => client.disconnect()));
        for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
      }
      consumers.clear();
      producers.clear();
      if (failures.length) {
        throw new MessagingError(`disconnect failed: ${failures.map(errorMessage).join('; ')}`, { cause: failures[0] });
      }
    },
  };
}
