import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Message, Messaging } from '../../../../lib/messaging/types';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { topicFor } from '../../events/envelope';
import { CdcSink } from '../cdc-sink';
import { changeEvent, createShop, monolithItem, monolithOrder, monolithUser, query, type Shop } from './fixtures';

const USERS = 20_000;
const ORDERS = 10_000;
const ITEMS_PER_ORDER = 2;

describeWithKafka('CDC sink throughput', () => {
  let shop: Shop;
  let messaging: Messaging;
  const logger = createLogger('sink-test', 'silent');

  beforeAll(async () => {
    shop = await createShop();
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'sink-throughput-test', logger });
  });
  afterAll(async () => {
    await messaging.disconnect();
    await shop.drop();
  });

  async function sendAll(table: string, rows: { key: number; after: Record<string, unknown> }[]): Promise<void> {
    const producer = messaging.producer();
    const topic = topicFor(shop.forward.topicPrefix, 'public', table);
    for (let i = 0; i < rows.length; i += 1_000) {
      const messages: Message[] = rows.slice(i, i + 1_000).map(({ key, after }) => ({
        key: JSON.stringify({ id: key }),
        value: JSON.stringify(changeEvent({ definition: shop.forward, table, op: 'c', after })),
      }));
      await producer.send(topic, messages);
    }
    await producer.disconnect();
  }

  it('applies 50k change events (users, orders, embedded items) and reports rows/s', async () => {
    const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    await sendAll('users', range(USERS).map((id) => ({ key: id, after: monolithUser(id) })));
    await sendAll('orders', range(ORDERS).map((id) => ({ key: id, after: monolithOrder(id, id) })));
    await sendAll(
      'order_items',
      range(ORDERS * ITEMS_PER_ORDER).map((id) => ({ key: id, after: monolithItem(id, Math.ceil(id / ITEMS_PER_ORDER), (id - 1) % ITEMS_PER_ORDER) })),
    );
    const total = USERS + ORDERS + ORDERS * ITEMS_PER_ORDER;

    const sink = new CdcSink({ definition: shop.forward, brokers: testKafkaBrokers(), logger });
    const started = Date.now();
    await sink.start();
    // From the first applied change on: joining the group and preparing the target are not throughput.
    let first: { at: number; applied: number } | undefined;
    try {
      await eventually(
        () => {
          const { applied } = sink.status();
          if (!first && applied > 0) first = { at: Date.now(), applied };
          expect(applied).toBe(total);
        },
        55_000,
        20,
      );
      const done = Date.now();
      const rate = Math.round((total - first!.applied) / ((done - first!.at) / 1000));
      process.stdout.write(
        `\nsink applied ${total} events: ${rate} events/s once streaming, ${((done - started) / 1000).toFixed(1)} s from start() to the last one\n`,
      );
    } finally {
      await sink.stop();
    }
    const [counts] = await query(
      shop.service.url,
      "SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM orders) AS orders, (SELECT sum(jsonb_array_length(items))::int FROM orders) AS items",
    );
    expect(counts).toEqual({ users: USERS, orders: ORDERS, items: ORDERS * ITEMS_PER_ORDER });
  }, 120_000);
});
