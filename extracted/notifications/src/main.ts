// Must stay the first import: tracing can only patch express, http, pg and kafkajs if it starts before they load.
import { tracing } from '../../../lib/telemetry/register';
import { createSequelize } from '../../../lib/db/sequelize';
import { migrate } from '../../../lib/db/migrator';
import { listen } from '../../../lib/http/server';
import { createLogger } from '../../../lib/logger';
import { createMessaging } from '../../../lib/messaging/kafka';
import { exitWithParent, onShutdown } from '../../../lib/process/shutdown';
import { createNotificationsService } from './app';
import { workshopFromConfig } from '../../../lib/http/workshop';
import { loadConfig } from './config';
import { migrations } from './db/migrations';
import { startDispatcher } from './notifications/dispatcher';
import { startOrderEventsConsumer } from './notifications/order-events.consumer';

async function main(): Promise<void> {
  const logger = createLogger('notifications');
  const config = loadConfig();
  const sequelize = createSequelize(config.DATABASE_URL, logger);
  await migrate(sequelize, migrations, logger);
  const service = createNotificationsService({ sequelize, logger, internalSecret: config.STRANGLER_INTERNAL_SECRET, workshop: workshopFromConfig('notifications', config) });
  const server = await listen(service.app, config.PORT);
  const messaging = createMessaging({ brokers: config.KAFKA_BROKERS, clientId: 'notifications', logger });
  const consumer = startOrderEventsConsumer({
    messaging,
    notifications: service.services.notifications,
    logger,
    topic: config.ORDERS_EVENTS_TOPIC,
    partitions: config.ORDERS_EVENTS_PARTITIONS,
    groupId: config.NOTIFICATIONS_CONSUMER_GROUP,
  });
  const dispatcher = startDispatcher(service.services.notifications, logger, config.DISPATCH_INTERVAL_MS);
  logger.info({ url: server.url, kafka: config.KAFKA_BROKERS, topic: config.ORDERS_EVENTS_TOPIC, groupId: config.NOTIFICATIONS_CONSUMER_GROUP }, 'notifications service listening');
  // Closers run last-first: stop taking requests, leave the group (the handler in progress finishes), then close.
  onShutdown(logger, [
    () => tracing.shutdown(),
    () => sequelize.close(),
    () => dispatcher.stop(),
    () => messaging.disconnect(),
    () => consumer.stop(),
    () => server.close(),
  ]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`notifications service failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
