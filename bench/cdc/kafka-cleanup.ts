import { Kafka, logLevel } from 'kafkajs';

/**
 * On a broker the bench did not start (BENCH_KAFKA_BROKERS, e.g. the test run's), its topics and consumer groups
 * are removed afterwards: a full run leaves gigabytes of change events otherwise. Best effort.
 */
export async function deleteKafkaLeftovers(brokers: string, topics: string[], groups: string[]): Promise<void> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-cdc-cleanup', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((t) => existing.has(t));
    if (ours.length) await admin.deleteTopics({ topics: ours, timeout: 10_000 });
    await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
