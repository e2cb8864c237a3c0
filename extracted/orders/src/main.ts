// Must stay the first import: tracing can only patch express, http, pg and kafkajs if it starts before they load.
import { tracing } from '../../../lib/telemetry/register';
import { createSequelize } from '../../../lib/db/sequelize';
import { migrate } from '../../../lib/db/migrator';
import { listen } from '../../../lib/http/server';
import { createLogger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import { exitWithParent, onShutdown } from '../../../lib/process/shutdown';
import { createOrdersService } from './app';
import { workshopFromConfig } from '../../../lib/http/workshop';
import { loadConfig } from './config';
import { migrations } from './db/migrations';
import { startOutboxRelay } from './outbox/relay';

async function main(): Promise<void> {
  const logger = createLogger('orders');
  const config = loadConfig();
  const sequelize = createSequelize(config.DATABASE_URL, logger);
  await migrate(sequelize, migrations, logger);
  const service = createOrdersService({
    sequelize,
    logger,
    users: { url: config.USERS_URL, timeoutMs: config.USERS_TIMEOUT_MS, retries: config.USERS_RETRIES },
    payments: {
      url: config.PAYMENTS_URL,
      timeoutMs: config.PAYMENTS_TIMEOUT_MS,
      retries: config.PAYMENTS_RETRIES,
      breaker: {
        resetMs: config.PAYMENTS_BREAKER_RESET_MS,
        errorPercent: config.PAYMENTS_BREAKER_ERROR_PERCENT,
        volume: config.PAYMENTS_BREAKER_VOLUME,
        windowMs: config.PAYMENTS_BREAKER_WINDOW_MS,
      },
    },
    topic: config.ORDERS_EVENTS_TOPIC,
    internalSecret: config.STRANGLER_INTERNAL_SECRET,
    workshop: workshopFromConfig('orders', config),
  });
  const server = await listen(service.app, config.PORT);
  // Kafka being down never stops orders from being taken: events wait in the outbox until the relay gets through.
  const messaging = createMessaging({ brokers: config.KAFKA_BROKERS, clientId: 'orders', logger });
  const relay = startOutboxRelay({
    sequelize,
    producer: messaging.producer({ idempotent: true }),
    admin: messaging.admin,
    partitions: config.ORDERS_EVENTS_PARTITIONS,
    logger,
    intervalMs: config.OUTBOX_POLL_MS,
    batchSize: config.OUTBOX_BATCH_SIZE,
  });
  logger.info({ url: server.url, usersUrl: config.USERS_URL, paymentsUrl: config.PAYMENTS_URL, kafka: config.KAFKA_BROKERS }, 'orders service listening');
  // Closers run last-first: the server stops taking requests, then the relay finishes its pass before Kafka closes.
  onShutdown(logger, [
    () => tracing.shutdown(),
    () => sequelize.close(),
    () => messaging.disconnect(),
    () => relay.stop(),
    () => service.close(),
    () => server.close(),
  ]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`orders service failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
