import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { eventually } from '../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../test/harness/kafka';
import { createLogger } from '../../logger';
import { MessagingConsumerError, MessagingProduceError } from '../errors';
import { createMessaging } from '../kafka';
import type { Messaging, ReceivedMessage } from '../types';

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const text = (m: ReceivedMessage) => m.value?.toString('utf8') ?? null;

describeWithKafka('Kafka messaging', () => {
  let messaging: Messaging;
  beforeAll(() => {
    messaging = createMessaging({
      brokers: testKafkaBrokers(),
      clientId: 'messaging-test',
      logger: createLogger('messaging-test'),
    });
  });
  afterAll(async () => {
    await messaging.disconnect();
  });

  async function newTopic(partitions = 1): Promise<string> {
    const topic = unique('t');
    await messaging.admin.ensureTopics([topic], partitions);
    return topic;
  }

  it('round-trips key, value and headers, in order, with acks from an idempotent producer', async () => {
    const topic = await newTopic();
    const producer = messaging.producer({ idempotent: true });
    await producer.send(topic, [
      { key: 'order-1', value: '{"total":12}', headers: { 'content-type': 'application/json', 'trace-id': 'abc' } },
      { key: null, value: Buffer.from([0, 1, 255]) },
      { key: 'order-1', value: null },
    ]);

    const received: ReceivedMessage[] = [];
    const consumer = messaging.consumer(unique('g'));
    await consumer.run({ topics: [topic], fromBeginning: true, eachMessage: async (m) => void received.push(m) });
    await eventually(() => expect(received).toHaveLength(3));
    await consumer.disconnect();

    expect(received.map((m) => m.offset)).toEqual(['0', '1', '2']);
    expect(received[0]).toMatchObject({
      topic,
      partition: 0,
      key: 'order-1',
      headers: { 'content-type': 'application/json', 'trace-id': 'abc' },
    });
    expect(text(received[0])).toBe('{"total":12}');
    expect(received[0].timestamp).toBeGreaterThan(Date.now() - 60_000);
    expect(received[1].key).toBeNull();
    expect(received[1].value).toEqual(Buffer.from([0, 1, 255]));
    expect(received[1].headers).toEqual({});
    expect(received[2].value).toBeNull();
  });

  it('redelivers a message whose handler threw, and only that one', async () => {
    const topic = await newTopic();
    await messaging.producer().send(topic, ['a', 'b', 'c'].map((v) => ({ key: 'k', value: v })));

    const seen: string[] = [];
    let failed = false;
    const consumer = messaging.consumer(unique('g'));
    await consumer.run({
      topics: [topic],
      fromBeginning: true,
      eachMessage: async (m) => {
        seen.push(text(m)!);
        // A TypeError on purpose: kafkajs treats those as fatal unless we wrap them.
        if (text(m) === 'b' && !failed) {
          failed = true;
          throw new TypeError('handler bug');
        }
      },
    });
    await eventually(() => expect(seen).toEqual(['a', 'b', 'b', 'c']));
    await consumer.disconnect();
  });

  it('does not hand committed messages to the next consumer of the same group', async () => {
    const topic = await newTopic();
    const groupId = unique('g');
    const producer = messaging.producer();
    await producer.send(topic, [{ key: 'k', value: 'first' }]);

    const firstSeen: string[] = [];
    const first = messaging.consumer(groupId);
    await first.run({ topics: [topic], fromBeginning: true, eachMessage: async (m) => void firstSeen.push(text(m)!) });
    await eventually(() => expect(firstSeen).toEqual(['first']));
    await first.disconnect();

    await producer.send(topic, [{ key: 'k', value: 'second' }]);
    const secondSeen: string[] = [];
    const second = messaging.consumer(groupId);
    await second.run({ topics: [topic], fromBeginning: true, eachMessage: async (m) => void secondSeen.push(text(m)!) });
    await eventually(() => expect(secondSeen).toEqual(['second']));
    await second.disconnect();
  });

  it('eachBatch commits a batch once and redelivers the whole batch after a throw', async () => {
    const topic = await newTopic();
    const groupId = unique('g');
    await messaging.producer().send(topic, ['x', 'y'].map((v) => ({ key: 'k', value: v })));

    const attempts: string[][] = [];
    const consumer = messaging.consumer(groupId);
    await consumer.run({
      topics: [topic],
      fromBeginning: true,
      eachBatch: async ({ messages }) => {
        attempts.push(messages.map((m) => text(m)!));
        if (attempts.length === 1) throw new Error('first try fails');
      },
    });
    await eventually(() => expect(attempts.length).toBeGreaterThanOrEqual(2));
    await consumer.disconnect();
    // The broker may split a batch differently on the second fetch; the failed batch comes back from its start.
    expect(attempts[1][0]).toBe(attempts[0][0]);
    expect(attempts.flat().filter((v) => v === 'y').length).toBeGreaterThanOrEqual(1);

    const after: string[] = [];
    const next = messaging.consumer(groupId);
    await messaging.producer().send(topic, [{ key: 'k', value: 'z' }]);
    await next.run({ topics: [topic], fromBeginning: true, eachBatch: async (b) => void after.push(...b.messages.map((m) => text(m)!)) });
    await eventually(() => expect(after).toEqual(['z']));
    await next.disconnect();
  });

  it('a batch handler working longer than the session keeps its partitions by calling heartbeat()', async () => {
    const short = createMessaging({
      brokers: testKafkaBrokers(),
      clientId: 'messaging-test-session',
      logger: createLogger('messaging-test'),
      consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
    });
    const topic = await newTopic();
    const deliveries: string[] = [];
    let finished = 0;
    const consumer = short.consumer(unique('g'));
    try {
      await short.producer().send(topic, [{ key: 'k', value: 'slow' }]);
      await consumer.run({
        topics: [topic],
        fromBeginning: true,
        eachBatch: async ({ messages }, control) => {
          deliveries.push(...messages.map((m) => text(m)!));
          // 9 s of work on one batch, half again the session: without heartbeats the broker drops the member, the
          // commit fails and the batch comes again.
          for (const end = Date.now() + 9_000; Date.now() < end; ) {
            await new Promise((r) => setTimeout(r, 300));
            await control.heartbeat();
          }
          finished++;
        },
      });
      await eventually(() => expect(finished).toBe(1), 30_000);
      // A dropped member would have its commit refused now and get the batch again within a few seconds.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(deliveries).toEqual(['slow']);
    } finally {
      await consumer.disconnect();
      await short.disconnect();
    }
  });

  it('creates topics with the requested partitions and leaves existing ones alone', async () => {
    const topic = unique('t');
    await messaging.admin.ensureTopics([topic, topic], 3);
    await messaging.admin.ensureTopics([topic], 1);
    const admin = new Kafka({ brokers: testKafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(topics[0].partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('rejects misuse with explicit errors', async () => {
    const consumer = messaging.consumer(unique('g'));
    const handler = async () => undefined;
    await expect(
      // @ts-expect-error both handlers at once is what the types forbid; callers in JS could still do it
      consumer.run({ topics: ['x'], eachMessage: handler, eachBatch: handler }),
    ).rejects.toThrow(MessagingConsumerError);
    await expect(consumer.run({ topics: [], eachMessage: handler })).rejects.toThrow(/at least one topic/);

    const producer = messaging.producer();
    await producer.disconnect();
    await expect(producer.send('x', [{ key: null, value: 'v' }])).rejects.toThrow(MessagingProduceError);
  });
});
