import { z } from 'zod';
import { parseConfig, port } from '../../../lib/config';
import { internalSecret } from '../../../lib/http/internal-auth';
import { workshopConfig } from '../../../lib/http/workshop';
import { brokerList } from '../../../lib/messaging/config';

export const DEFAULTS = {
  kafkaBrokers: '127.0.0.1:9092',
  eventsTopic: 'shop.orders.events',
  topicPartitions: 3,
  consumerGroup: 'notifications',
  dispatchIntervalMs: 500,
} as const;

// An empty env var counts as unset, so `KAFKA_BROKERS=` falls back to the default instead of failing validation.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

const schema = z.object({
  PORT: port(3104),
  DATABASE_URL: z.string().url('must be a postgres:// URL of the notifications database'),
  /** Shared with the facade: verifies dry runs and internal calls (see lib/http/internal-auth). */
  STRANGLER_INTERNAL_SECRET: internalSecret(),
  /** `strangler up --workshop`: run-time faults and planted bugs behind the admin token (lib/http/workshop). */
  ...workshopConfig,
  KAFKA_BROKERS: z.preprocess((v) => unsetIfEmpty(v) ?? DEFAULTS.kafkaBrokers, brokerList()),
  ORDERS_EVENTS_TOPIC: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name').default(DEFAULTS.eventsTopic)),
  ORDERS_EVENTS_PARTITIONS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(1000).default(DEFAULTS.topicPartitions)),
  NOTIFICATIONS_CONSUMER_GROUP: z.preprocess(unsetIfEmpty, z.string().min(1).max(255).default(DEFAULTS.consumerGroup)),
  DISPATCH_INTERVAL_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(50).max(60_000).default(DEFAULTS.dispatchIntervalMs)),
});

export type NotificationsConfig = z.infer<typeof schema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): NotificationsConfig =>
  parseConfig(schema, env, 'notifications service configuration');
