import type { Message, ReceivedMessage } from '../../../lib/messaging/types';
import { describeError } from './errors';

/**
 * A poison event as it goes to the pipeline's dead-letter topic: key and value untouched, so it can be replayed as
 * is once fixed, and the error in headers named as Kafka Connect's dead-letter queue names them.
 */
export function deadLetterMessage(pipeline: string, message: ReceivedMessage, err: unknown): Message {
  const { className, message: text, code } = describeError(err);
  const reason = (err as { reason?: unknown }).reason;
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      '__connect.errors.topic': message.topic,
      '__connect.errors.partition': String(message.partition),
      '__connect.errors.offset': message.offset,
      '__connect.errors.connector.name': pipeline,
      '__connect.errors.exception.class.name': className,
      '__connect.errors.exception.message': text,
      ...(code ? { 'strangler.errors.sqlstate': code } : {}),
      ...(typeof reason === 'string' ? { 'strangler.errors.reason': reason } : {}),
      'strangler.errors.at': new Date().toISOString(),
    },
  };
}
