import { randomBytes } from 'node:crypto';
import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { listen, type RunningServer } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { createMessaging } from '../../lib/messaging/kafka';
import type { Messaging } from '../../lib/messaging/types';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { TEST_INTERNAL_SECRET } from '../../test/harness/internal';
import { createNotificationsService, type NotificationsServiceApp } from './src/app';
import { migrations } from './src/db/migrations';
import { startDispatcher } from './src/notifications/dispatcher';
import { startOrderEventsConsumer, type OrderEventsConsumer } from './src/notifications/order-events.consumer';

export interface TestNotificationsService {
  service: NotificationsServiceApp;
  server: RunningServer;
  db: TestDatabase;
  sequelize: ReturnType<typeof createSequelize>;
  messaging: Messaging;
  groupId: string;
  consumer?: OrderEventsConsumer;
  /** Starts a new consumer (stopping the running one), e.g. in a fresh group that re-reads the topic from the start. */
  startConsumer(options?: { groupId?: string }): Promise<OrderEventsConsumer>;
  stopConsumer(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestNotificationsOptions {
  kafkaBrokers: string;
  /** The orders service's events topic (its testing helper makes a unique one per instance). */
  topic: string;
  /** Partitions to create the topic with if nobody has yet (default 3). */
  partitions?: number;
  /** Default: a unique group per instance, so test files sharing the broker never split each other's partitions. */
  groupId?: string;
  dispatchIntervalMs?: number;
  /** Start consuming with the service, as main.ts does (default true). */
  consume?: boolean;
}

/** A real notifications service over a fresh database, consuming `topic`, as main.ts would run it. */
export async function startTestNotificationsService(options: TestNotificationsOptions): Promise<TestNotificationsService> {
  const db = await createTestDatabase('notifications');
  const logger = createLogger('notifications', 'silent');
  const sequelize = createSequelize(db.url, logger);
  await migrate(sequelize, migrations, logger);
  const service = createNotificationsService({ sequelize, logger, internalSecret: TEST_INTERNAL_SECRET });
  const server = await listen(service.app, 0);
  const messaging = createMessaging({ brokers: options.kafkaBrokers, clientId: 'notifications-test', logger });
  const dispatcher = startDispatcher(service.services.notifications, logger, options.dispatchIntervalMs ?? 100);

  const t: TestNotificationsService = {
    service,
    server,
    db,
    sequelize,
    messaging,
    groupId: options.groupId ?? `notifications-${randomBytes(4).toString('hex')}`,
    async startConsumer(consumerOptions = {}) {
      await t.stopConsumer();
      if (consumerOptions.groupId) t.groupId = consumerOptions.groupId;
      const consumer = startOrderEventsConsumer({
        messaging,
        notifications: service.services.notifications,
        logger,
        topic: options.topic,
        partitions: options.partitions ?? 3,
        groupId: t.groupId,
        retryMs: 200,
      });
      t.consumer = consumer;
      await consumer.ready;
      return consumer;
    },
    async stopConsumer() {
      const consumer = t.consumer;
      t.consumer = undefined;
      await consumer?.stop();
    },
    async stop() {
      await server.close();
      await t.stopConsumer();
      await messaging.disconnect();
      await dispatcher.stop();
      await sequelize.close();
      await db.drop();
    },
  };
  if (options.consume !== false) await t.startConsumer();
  return t;
}
