import { randomBytes } from 'node:crypto';
import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { listen, type RunningServer } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { createMessaging } from '../../lib/messaging/kafka';
import type { Messaging } from '../../lib/messaging/types';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { TEST_INTERNAL_SECRET } from '../../test/harness/internal';
import { createOrdersService, type OrdersServiceApp, type OrdersServiceDeps } from './src/app';
import { migrations } from './src/db/migrations';
import type { OrderFaults } from './src/orders/orders.service';
import { startOutboxRelay, type OutboxRelay, type RelayFaults } from './src/outbox/relay';

export interface TestOrdersService {
  service: OrdersServiceApp;
  server: RunningServer;
  db: TestDatabase;
  sequelize: ReturnType<typeof createSequelize>;
  /** This instance's events topic: unique per test service, so test files sharing the broker never see each other. */
  topic: string;
  messaging?: Messaging;
  /** The relay running now, if any. */
  relay?: OutboxRelay;
  /** Starts a fresh relay with its own producer, as a restarted process would (stops the running one first). */
  startRelay(options?: { faults?: RelayFaults }): Promise<OutboxRelay>;
  stopRelay(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestOrdersOptions {
  users?: OrdersServiceDeps['users'];
  payments?: OrdersServiceDeps['payments'];
  /** Broker list of the run's Kafka; without it no relay can run and events stay in the outbox. */
  kafkaBrokers?: string;
  topic?: string;
  /** Partitions the relay creates the topic with (default 3). */
  partitions?: number;
  /** Start the relay with the service, as main.ts does (default: true when `kafkaBrokers` is given). */
  relay?: boolean;
  relayIntervalMs?: number;
  faults?: OrderFaults;
  /** Fixed port (e.g. reserved with freePort() so the users service can be told it first); default any free port. */
  port?: number;
}

/** A real orders service over a fresh database, as main.ts would run it. */
export async function startTestOrdersService(options: TestOrdersOptions = {}): Promise<TestOrdersService> {
  const db = await createTestDatabase('orders');
  const logger = createLogger('orders', 'silent');
  const sequelize = createSequelize(db.url, logger);
  await migrate(sequelize, migrations, logger);
  const topic = options.topic ?? `shop.orders.events.${randomBytes(4).toString('hex')}`;
  const service = createOrdersService({ sequelize, logger, users: options.users, payments: options.payments, topic, faults: options.faults, internalSecret: TEST_INTERNAL_SECRET });
  const server = await listen(service.app, options.port ?? 0);
  const messaging = options.kafkaBrokers ? createMessaging({ brokers: options.kafkaBrokers, clientId: 'orders-test', logger }) : undefined;

  const t: TestOrdersService = {
    service,
    server,
    db,
    sequelize,
    topic,
    messaging,
    async startRelay(relayOptions = {}) {
      if (!messaging) throw new Error('startTestOrdersService needs kafkaBrokers to run a relay');
      await t.stopRelay();
      t.relay = startOutboxRelay({
        sequelize,
        producer: messaging.producer({ idempotent: true }),
        admin: messaging.admin,
        partitions: options.partitions ?? 3,
        logger,
        intervalMs: options.relayIntervalMs ?? 50,
        batchSize: 100,
        faults: relayOptions.faults,
      });
      return t.relay;
    },
    async stopRelay() {
      const relay = t.relay;
      t.relay = undefined;
      await relay?.stop();
    },
    async stop() {
      await server.close();
      service.close();
      await t.stopRelay();
      await messaging?.disconnect();
      await sequelize.close();
      await db.drop();
    },
  };
  if (messaging && options.relay !== false) await t.startRelay();
  return t;
}
