import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { percentile } from './lag';

/** The high watermark of a one-partition topic: where the lag window's records will start. */
export async function topicEnd(brokers: string, topic: string): Promise<string> {
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'bench-cdc-lag', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.find((o) => o.partition === 0)?.high ?? '0';
  } catch {
    return '0';
  } finally {
    await admin.disconnect();
  }
}

/**
 * Kafka's record timestamp of each wanted id (CreateTime: kafkajs stamps it when it encodes the produce request),
 * read after the lag window so the reading never competes with it. Splits commit → applied into the source's
 * share and the rest (produce, fetch, sink).
 */
export async function producedAt(brokers: string, topic: string, fromOffset: string, ids: Set<number>, timeoutMs = 60_000): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  if (!ids.size) return found;
  const last = Math.max(...ids);
  const groupId = `bench-cdc-lag-${randomBytes(4).toString('hex')}`;
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'bench-cdc-lag', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.key) continue;
          const id = Number((JSON.parse(m.key.toString('utf8')) as { id?: unknown }).id);
          if (ids.has(id)) found.set(id, Number(m.timestamp));
          if (id >= last) finish();
        }
      },
    });
    consumer.seek({ topic, partition: 0, offset: fromOffset });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
  return found;
}

export interface LagSplit {
  /** Commit on the monolith → record handed to Kafka: decoding, envelope, batching in the source. */
  toKafka: { p50: number | null; p99: number | null };
  /** Record handed to Kafka → visible in the service table: produce ack, fetch, sink transaction. */
  toApplied: { p50: number | null; p99: number | null };
  matched: number;
}

export function splitLag(transactions: { maxId: number; committedMs: number; appliedMs: number | null }[], produced: Map<number, number>): LagSplit {
  const a: number[] = [];
  const b: number[] = [];
  for (const t of transactions) {
    const p = produced.get(t.maxId);
    if (p === undefined || t.appliedMs === null) continue;
    a.push(p - t.committedMs);
    b.push(t.appliedMs - p);
  }
  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  return { toKafka: { p50: percentile(a, 50), p99: percentile(a, 99) }, toApplied: { p50: percentile(b, 50), p99: percentile(b, 99) }, matched: a.length };
}
