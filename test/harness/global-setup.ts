import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type PostgresServer } from '../../lib/db/embedded-postgres';
import { kafkaBrokersFromEnv } from '../../lib/messaging/config';
import { freePort } from '../../lib/net/ports';
import { kafkaLaunchProblem, startKafkaBroker, type KafkaBroker } from '../../scripts/stack/kafka-broker';
import { ensureBuilt } from './build';
import globalTeardown from './global-teardown';

declare global {
  var __STRANGLER_TEST_PG__: PostgresServer | undefined;
  var __STRANGLER_TEST_KAFKA__: KafkaBroker | undefined;
  var __STRANGLER_TEST_ROOT__: string | undefined;
}

function testRoot(): string {
  if (!globalThis.__STRANGLER_TEST_ROOT__) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-test-'));
    fs.chmodSync(root, 0o755);
    globalThis.__STRANGLER_TEST_ROOT__ = root;
  }
  return globalThis.__STRANGLER_TEST_ROOT__;
}

/**
 * One real Postgres per test run. `STRANGLER_PG_URL` (a superuser URL of a server with wal_level=logical) points
 * the suite at an external server instead; each test file still gets its own fresh database.
 */
async function setUpPostgres(): Promise<void> {
  if (process.env.STRANGLER_PG_URL) {
    process.env.STRANGLER_TEST_PG_URL = process.env.STRANGLER_PG_URL;
    return;
  }
  const server = await startEmbeddedPostgres({
    dataDir: path.join(testRoot(), 'pg'),
    port: await freePort(),
    persistent: false,
    unsafeFast: true,
  });
  globalThis.__STRANGLER_TEST_PG__ = server;
  process.env.STRANGLER_TEST_PG_URL = server.url;
}

/**
 * One real Kafka broker per test run; `KAFKA_BROKERS` points the suite at an external one instead. Without Java or
 * Maven a developer's run skips the Kafka tests (see describeWithKafka); CI must not silently test less, so it fails.
 */
async function setUpKafka(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    process.env.STRANGLER_TEST_KAFKA_BROKERS = kafkaBrokersFromEnv().join(',');
    return;
  }
  const problem = kafkaLaunchProblem();
  if (problem) {
    if (process.env.CI) throw new Error(`CI needs a Kafka broker for the tests: ${problem.message}`);
    console.warn(`\nKafka tests will be skipped: ${problem.message}\n`);
    return;
  }
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const broker = await startKafkaBroker({
    dataDir: path.join(testRoot(), 'kafka'),
    port,
    controllerPort,
    onLog: process.env.KAFKA_TEST_LOGS ? (line) => console.log(`[kafka] ${line}`) : undefined,
  });
  globalThis.__STRANGLER_TEST_KAFKA__ = broker;
  process.env.STRANGLER_TEST_KAFKA_BROKERS = broker.brokers;
}

export default async function globalSetup(): Promise<void> {
  process.env.LOG_LEVEL ??= 'silent';
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  ensureBuilt();
  // In parallel: the JVM start dominates, Postgres fits inside it.
  const results = await Promise.allSettled([setUpPostgres(), setUpKafka()]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // Jest skips global teardown when setup throws; whatever did start must not outlive the run.
    await globalTeardown().catch(() => undefined);
    throw failure.reason;
  }
}
