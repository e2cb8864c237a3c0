import { z } from 'zod';
import { parseConfig } from '../config';

/** A comma-separated `host:port` list, as operators write it; surrounding spaces and empty items are ignored. */
export const brokerList = () =>
  z
    .string({ error: 'required: comma-separated host:port list, e.g. 127.0.0.1:9092' })
    .transform((raw) =>
      raw
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^\s:,/]+:\d{1,5}$/, 'each broker must be host:port')).min(1, 'no broker listed'));

/** `KAFKA_BROKERS` as the list the client wants; throws `ConfigError` naming the variable when unset or malformed. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseConfig(z.object({ KAFKA_BROKERS: brokerList() }), env, 'Kafka configuration').KAFKA_BROKERS;
}
