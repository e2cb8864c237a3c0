import { z } from 'zod';
import { parseConfig, port } from '../../../lib/config';
import { internalSecret } from '../../../lib/http/internal-auth';
import { workshopConfig } from '../../../lib/http/workshop';
import { brokerList } from '../../../lib/messaging/config';

export const DEFAULTS = {
  usersUrl: 'http://127.0.0.1:3101',
  usersTimeoutMs: 2000,
  usersRetries: 2,
  paymentsUrl: 'http://127.0.0.1:3103',
  paymentsTimeoutMs: 3000,
  paymentsRetries: 2,
  breakerResetMs: 10_000,
  breakerErrorPercent: 50,
  breakerVolume: 5,
  breakerWindowMs: 10_000,
  kafkaBrokers: '127.0.0.1:9092',
  eventsTopic: 'shop.orders.events',
  topicPartitions: 3,
  outboxPollMs: 500,
  outboxBatchSize: 100,
} as const;

// An empty env var counts as unset, so `USERS_URL=` falls back to the default instead of failing validation.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const int = (min: number, max: number, fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).default(fallback));
const httpUrl = (what: string, fallback: string) =>
  z.preprocess(unsetIfEmpty, z.string().url(`must be the http:// base URL of the ${what}`).default(fallback));

const schema = z.object({
  PORT: port(3102),
  DATABASE_URL: z.string().url('must be a postgres:// URL of the orders database'),
  /** Shared with the facade: verifies dry runs and internal calls (see lib/http/internal-auth). */
  STRANGLER_INTERNAL_SECRET: internalSecret(),
  /** `strangler up --workshop`: run-time faults and planted bugs behind the admin token (lib/http/workshop). */
  ...workshopConfig,
  USERS_URL: httpUrl('users service', DEFAULTS.usersUrl),
  USERS_TIMEOUT_MS: int(1, 60_000, DEFAULTS.usersTimeoutMs),
  USERS_RETRIES: int(0, 10, DEFAULTS.usersRetries),
  PAYMENTS_URL: httpUrl('payments service', DEFAULTS.paymentsUrl),
  PAYMENTS_TIMEOUT_MS: int(1, 60_000, DEFAULTS.paymentsTimeoutMs),
  PAYMENTS_RETRIES: int(0, 10, DEFAULTS.paymentsRetries),
  PAYMENTS_BREAKER_RESET_MS: int(10, 600_000, DEFAULTS.breakerResetMs),
  PAYMENTS_BREAKER_ERROR_PERCENT: int(1, 100, DEFAULTS.breakerErrorPercent),
  PAYMENTS_BREAKER_VOLUME: int(1, 1000, DEFAULTS.breakerVolume),
  PAYMENTS_BREAKER_WINDOW_MS: int(100, 600_000, DEFAULTS.breakerWindowMs),
  KAFKA_BROKERS: z.preprocess((v) => unsetIfEmpty(v) ?? DEFAULTS.kafkaBrokers, brokerList()),
  ORDERS_EVENTS_TOPIC: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name').default(DEFAULTS.eventsTopic)),
  ORDERS_EVENTS_PARTITIONS: int(1, 1000, DEFAULTS.topicPartitions),
  OUTBOX_POLL_MS: int(10, 60_000, DEFAULTS.outboxPollMs),
  OUTBOX_BATCH_SIZE: int(1, 10_000, DEFAULTS.outboxBatchSize),
});

export type OrdersConfig = z.infer<typeof schema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): OrdersConfig => parseConfig(schema, env, 'orders service configuration');
