import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres';
import { freePort } from '../../lib/net/ports';
import { KAFKA_VERSION, kafkaLaunchProblem, startKafkaBroker } from '../../scripts/stack/kafka-broker';

/** The servers the CDC rows run against: the bench's own unless BENCH_PG_URL / BENCH_KAFKA_BROKERS name existing ones. */
export interface CdcInfra {
  /** Superuser URL of the server's `postgres` database. */
  serverUrl: string;
  brokers: string;
  /** The broker's JVM when the bench started it (its CPU is then counted); null for an existing broker. */
  kafkaPid: number | null;
  /** Whether the servers are the bench's own: then nothing in them needs cleaning up, they are thrown away. */
  ownPostgres: boolean;
  ownKafka: boolean;
  describe: string;
  stop(): Promise<void>;
}

export async function startCdcInfra(log: (line: string) => void): Promise<CdcInfra> {
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
  };
  let root: string | undefined;
  const scratch = () => {
    if (!root) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-cdc-'));
      // Postgres runs as the OS user `postgres` when the bench runs as root: it must reach its data folder.
      fs.chmodSync(dir, 0o755);
      closers.unshift(async () => fs.rmSync(dir, { recursive: true, force: true }));
      root = dir;
    }
    return root;
  };

  const postgres = async () => {
    if (process.env.BENCH_PG_URL) return { url: process.env.BENCH_PG_URL, own: false };
    const pg = await startEmbeddedPostgres({ dataDir: path.join(scratch(), 'pg'), port: await freePort(), persistent: false, unsafeFast: true });
    closers.push(() => pg.stop());
    return { url: pg.url, own: true };
  };
  const kafka = async () => {
    if (process.env.BENCH_KAFKA_BROKERS) return { brokers: process.env.BENCH_KAFKA_BROKERS, pid: null, own: false };
    const problem = kafkaLaunchProblem();
    if (problem) throw new Error(`the CDC suite needs Kafka: ${problem.message} (or set BENCH_KAFKA_BROKERS)`);
    const port = await freePort();
    let controllerPort = await freePort();
    while (controllerPort === port) controllerPort = await freePort();
    log(`starting Kafka ${KAFKA_VERSION} (a JVM; slow on a busy machine)…`);
    const broker = await startKafkaBroker({
      dataDir: path.join(scratch(), 'kafka'),
      port,
      controllerPort,
      onLog: process.env.BENCH_CHILD_LOGS ? (line) => console.error(`[kafka] ${line}`) : undefined,
    });
    closers.push(() => broker.stop());
    return { brokers: broker.brokers, pid: broker.pid, own: true };
  };

  // Together: the JVM's start dominates and Postgres fits inside it.
  const [pg, k] = await Promise.allSettled([postgres(), kafka()]);
  if (pg.status === 'rejected' || k.status === 'rejected') {
    await stop();
    throw (pg.status === 'rejected' ? pg.reason : (k as PromiseRejectedResult).reason) as Error;
  }
  const describe = [
    pg.value.own ? 'embedded PostgreSQL 17 (fsync and synchronous_commit off, as in the tests)' : 'PostgreSQL at BENCH_PG_URL',
    k.value.own ? `Kafka ${KAFKA_VERSION} (single KRaft node, 512 MB heap)` : 'Kafka at BENCH_KAFKA_BROKERS',
  ].join(', ');
  return { serverUrl: pg.value.url, brokers: k.value.brokers, kafkaPid: k.value.pid, ownPostgres: pg.value.own, ownKafka: k.value.own, describe, stop };
}
