import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSink } from '../cdc-sink';
import { createShop, messagesFor, monolithItem, monolithOrder, monolithUser, produce, query, unique, type Produced, type Shop } from './fixtures';

describeWithKafka('CDC sink, monolith → service', () => {
  let shop: Shop;
  let messaging: Messaging;
  const sinks: CdcSink[] = [];
  const logger = createLogger('sink-test', 'silent');

  beforeAll(async () => {
    shop = await createShop();
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'sink-forward-test', logger });
  });
  afterAll(async () => {
    for (const s of sinks) await s.stop();
    await messaging.disconnect();
    await shop.drop();
  });

  async function startSink(definition: PipelineDefinition = shop.forward): Promise<CdcSink> {
    const sink = new CdcSink({ definition, brokers: testKafkaBrokers(), logger });
    sinks.push(sink);
    await sink.start();
    return sink;
  }

  const f = (table: string) => ({ definition: shop.forward, table });
  const send = (...produced: Produced[][]) => produce(messaging, produced.flat());
  const users = () => query(shop.service.url, 'SELECT id, email, full_name, created_at FROM users ORDER BY id');
  const items = async (id: number) => (await query<{ items: unknown }>(shop.service.url, 'SELECT items FROM orders WHERE id = $1', [id]))[0]?.items;

  let sink: CdcSink;
  beforeAll(async () => {
    sink = await startSink();
  });

  it('creates, updates and deletes users with name → full_name, with and without the schema wrapper', async () => {
    await send(
      messagesFor({ ...f('users'), op: 'r', after: monolithUser(1, 'Ada Lovelace') }, { id: 1 }),
      messagesFor({ ...f('users'), op: 'c', after: monolithUser(2, 'Grace Hopper') }, { id: 2 }, { wrapped: true }),
      messagesFor({ ...f('users'), op: 'c', after: monolithUser(3, 'Alan Turing') }, { id: 3 }),
      messagesFor({ ...f('users'), op: 'u', before: monolithUser(2, 'Grace Hopper'), after: monolithUser(2, 'Grace B. Hopper') }, { id: 2 }),
      messagesFor({ ...f('users'), op: 'd', before: monolithUser(3, 'Alan Turing') }, { id: 3 }, { wrapped: true }),
    );
    await eventually(async () => expect((await users()).map((u) => u.full_name)).toEqual(['Ada Lovelace', 'Grace B. Hopper']), 20_000);
    const [ada] = await users();
    expect(ada).toEqual({ id: 1, email: 'user1@example.com', full_name: 'Ada Lovelace', created_at: new Date('2024-01-01T00:00:00Z') });
    await eventually(() => expect(sink.status()).toMatchObject({ state: 'streaming', applied: 5, conflicts: 0, replayed: 0, deadLetters: 0 }));
    const status = sink.status();
    expect(status.lastAppliedAt).not.toBeNull();
    // The events were stamped long ago, but the sink has applied all there is: an idle, caught-up sink has no lag.
    expect(status.lagMs).toBe(0);
    expect(status.eventsPerSecond).toBeGreaterThan(0);
  });

  it('orders changes of a row by commit position, not by timestamp: a change committed during the snapshot wins over the snapshot row', async () => {
    // The snapshot read user 5 late (its ts_ms is the read time); an update committed earlier, after the snapshot's
    // consistent point, streams afterwards with an older ts_ms. It is newer data and must win.
    const readAt = Date.now();
    await send(
      messagesFor({ ...f('users'), op: 'r', after: monolithUser(5, 'As Snapshotted'), tsMs: readAt }, { id: 5 }),
      messagesFor({ ...f('users'), op: 'u', before: monolithUser(5, 'As Snapshotted'), after: monolithUser(5, 'Updated During Snapshot'), tsMs: readAt - 5_000 }, { id: 5 }),
    );
    await eventually(async () => expect(await query(shop.service.url, 'SELECT full_name FROM users WHERE id = 5')).toEqual([{ full_name: 'Updated During Snapshot' }]), 20_000);
    await query(shop.service.url, 'DELETE FROM users WHERE id = 5');
    expect(sink.status()).toMatchObject({ conflicts: 0, replayed: 0 });
  });

  it('folds order items that arrive before their order into the order once it exists', async () => {
    await send(
      messagesFor({ ...f('order_items'), op: 'c', after: monolithItem(11, 10, 1, 'B', 2, 250) }, { id: 11 }),
      messagesFor({ ...f('order_items'), op: 'c', after: monolithItem(10, 10, 0, 'A', 1, 100) }, { id: 10 }),
    );
    await eventually(async () => expect((await query(shop.service.url, "SELECT 1 FROM strangler_cdc.embedded_rows WHERE child_table = 'order_items'")).length).toBe(2), 20_000);
    expect(await items(10)).toBeUndefined();

    await send(messagesFor({ ...f('orders'), op: 'c', after: monolithOrder(10, 1) }, { id: 10 }));
    await eventually(async () =>
      expect(await items(10)).toEqual([
        { sku: 'A', quantity: 1, unitPriceCents: 100 },
        { sku: 'B', quantity: 2, unitPriceCents: 250 },
      ]),
    );
  });

  it('keeps an order and its items, produced in one transaction on two topics, correct in any order', async () => {
    await send(
      messagesFor({ ...f('orders'), op: 'c', after: monolithOrder(20, 1, 'pending') }, { id: 20 }),
      messagesFor({ ...f('order_items'), op: 'c', after: monolithItem(20, 20, 0, 'X') }, { id: 20 }),
      messagesFor({ ...f('order_items'), op: 'c', after: monolithItem(21, 20, 1, 'Y') }, { id: 21 }),
      messagesFor({ ...f('order_items'), op: 'c', after: monolithItem(22, 20, 2, 'Z') }, { id: 22 }),
      messagesFor({ ...f('orders'), op: 'u', before: monolithOrder(20, 1, 'pending'), after: monolithOrder(20, 1, 'paid') }, { id: 20 }),
    );
    await eventually(async () => expect(((await items(20)) as { sku: string }[] | undefined)?.map((i) => i.sku)).toEqual(['X', 'Y', 'Z']), 20_000);
    const [order] = await query(shop.service.url, 'SELECT status, total_cents FROM orders WHERE id = 20');
    expect(order).toEqual({ status: 'paid', total_cents: '1000' });

    // An item changed, then one deleted: the element at that position changes, then the array closes the gap.
    await send(
      messagesFor({ ...f('order_items'), op: 'u', before: monolithItem(21, 20, 1, 'Y'), after: monolithItem(21, 20, 1, 'Y', 5) }, { id: 21 }),
      messagesFor({ ...f('order_items'), op: 'd', before: monolithItem(20, 20, 0, 'X') }, { id: 20 }),
    );
    await eventually(async () =>
      expect(await items(20)).toEqual([
        { sku: 'Y', quantity: 5, unitPriceCents: 500 },
        { sku: 'Z', quantity: 1, unitPriceCents: 500 },
      ]),
    );
  });

  it('changes nothing when the whole topic is replayed through a new consumer group', async () => {
    const before = await query(shop.service.url, 'SELECT * FROM users ORDER BY id');
    const orders = await query(shop.service.url, 'SELECT * FROM orders ORDER BY id');
    await sink.stop();

    const replay = await startSink({ ...shop.forward, consumerGroup: unique('replay') });
    await send(messagesFor({ ...f('users'), op: 'c', after: monolithUser(4, 'Barbara Liskov') }, { id: 4 }));
    await eventually(async () => expect((await users()).map((u) => u.id)).toEqual([1, 2, 4]), 20_000);
    // Only the new event was applied: everything at or below the stored offsets was skipped.
    expect(replay.status()).toMatchObject({ applied: 1, conflicts: 0, deadLetters: 0 });
    expect(await query(shop.service.url, 'SELECT * FROM orders ORDER BY id')).toEqual(orders);
    expect(await query(shop.service.url, 'SELECT * FROM users WHERE id <> 4 ORDER BY id')).toEqual(before);
    const offsets = await query(shop.service.url, 'SELECT topic, "offset" FROM strangler_cdc.sink_offsets WHERE pipeline = $1 ORDER BY topic', [shop.forward.name]);
    expect(offsets.map((o) => o.topic)).toEqual(expect.arrayContaining([`${shop.forward.topicPrefix}.public.users`]));
  });
});
