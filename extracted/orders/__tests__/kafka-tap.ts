import { randomBytes } from 'node:crypto';
import { createLogger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import type { ReceivedMessage } from '../../../lib/messaging/types';

export interface KafkaTap {
  /** Everything on the topic since its beginning, in arrival order (per partition: offset order). */
  messages: ReceivedMessage[];
  withEventId(eventId: string): ReceivedMessage[];
  stop(): Promise<void>;
}

/** Reads a topic from its beginning in a group of its own, the way any new consumer would see it. */
export async function tapTopic(brokers: string, topic: string, partitions = 3): Promise<KafkaTap> {
  const messaging = createMessaging({ brokers, clientId: 'test-tap', logger: createLogger('test-tap', 'silent') });
  await messaging.admin.ensureTopics([topic], partitions);
  const messages: ReceivedMessage[] = [];
  const consumer = messaging.consumer(`tap-${randomBytes(4).toString('hex')}`);
  await consumer.run({ topics: [topic], fromBeginning: true, eachMessage: async (m) => void messages.push(m) });
  return {
    messages,
    withEventId: (eventId) => messages.filter((m) => m.headers['event-id'] === eventId),
    stop: () => messaging.disconnect(),
  };
}

export const json = (m: ReceivedMessage): unknown => JSON.parse(m.value?.toString('utf8') ?? 'null');
