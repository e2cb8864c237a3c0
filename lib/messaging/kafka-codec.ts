import type { IHeaders, KafkaMessage, Message as KafkaJsMessage } from 'kafkajs';
import type { Headers, Message, ReceivedMessage } from './types';

/** A message without headers goes as it is: one object less per record on the produce path. */
export function toKafkaMessage(message: Message): KafkaJsMessage {
  if (message.headers === undefined) return message;
  return {
    key: message.key,
    value: message.value,
    headers: message.headers ? { ...message.headers } : undefined,
  };
}

function headerText(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** Repeated keys arrive as arrays; the last one wins, as Kafka's `Headers.lastHeader` would pick. */
export function fromKafkaHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length) out[name] = headerText(value[value.length - 1]);
    } else {
      out[name] = headerText(value);
    }
  }
  return out;
}

export function fromKafkaMessage(topic: string, partition: number, message: KafkaMessage): ReceivedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value,
    headers: fromKafkaHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}
