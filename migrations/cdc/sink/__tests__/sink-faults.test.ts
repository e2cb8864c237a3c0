import { Writable } from 'node:stream';
import pino from 'pino';
import { withDatabase } from '../../../../lib/db/urls';
import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Messaging, ReceivedMessage } from '../../../../lib/messaging/types';
import { testServerUrl } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { topicFor } from '../../events/envelope';
import { CdcSink } from '../cdc-sink';
import { changeEvent, createShop, messagesFor, monolithOrder, monolithUser, produce, query, unique, type Produced, type Shop } from './fixtures';

/** Log lines as objects, to check what an operator would read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

describeWithKafka('CDC sink under faults', () => {
  let shop: Shop;
  let messaging: Messaging;
  let sink: CdcSink;
  const captured = capturingLogger();
  const admin = () => withDatabase(testServerUrl(), 'postgres');

  beforeAll(async () => {
    shop = await createShop();
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'sink-faults-test', logger: createLogger('t', 'silent') });
    sink = new CdcSink({
      definition: shop.forward,
      brokers: testKafkaBrokers(),
      logger: captured.logger,
      retry: { initialMs: 50, maxMs: 500 },
    });
    await sink.start();
  });
  afterAll(async () => {
    await query(admin(), `ALTER DATABASE "${shop.service.name}" ALLOW_CONNECTIONS true`);
    await sink.stop();
    await messaging.disconnect();
    await shop.drop();
  });

  const f = (table: string) => ({ definition: shop.forward, table });
  const send = (...produced: Produced[][]) => produce(messaging, produced.flat());
  const userNames = async () => (await query<{ full_name: string }>(shop.service.url, 'SELECT full_name FROM users ORDER BY id')).map((u) => u.full_name);

  it('sends poison events to the dead-letter topic with the error, and goes on', async () => {
    const usersTopic = topicFor(shop.forward.topicPrefix, 'public', 'users');
    const ordersTopic = topicFor(shop.forward.topicPrefix, 'public', 'orders');
    const first = messagesFor({ ...f('users'), op: 'c', after: monolithUser(1, 'Before Poison') }, { id: 1 });
    // Built after the first one, so its position follows it (an earlier position would make it a repeat).
    const unknownTable = changeEvent({ ...f('payments'), op: 'c', after: { id: 1, order_id: 1, amount_cents: 5 } });
    await send(
      first,
      [{ topic: usersTopic, message: { key: '{"id":2}', value: '{"before": null, "after": {' } }],
      [{ topic: usersTopic, message: { key: '{"id":1}', value: JSON.stringify(unknownTable) } }],
      messagesFor({ ...f('orders'), op: 'c', after: monolithOrder(7, 1, 'lost-in-the-mail') }, { id: 7 }),
      messagesFor({ ...f('orders'), op: 'c', after: monolithOrder(8, 1, 'paid') }, { id: 8 }),
      messagesFor({ ...f('users'), op: 'c', after: monolithUser(3, 'After Poison') }, { id: 3 }),
    );
    await eventually(async () => expect(await userNames()).toEqual(['Before Poison', 'After Poison']), 20_000);
    await eventually(async () => expect(await query(shop.service.url, 'SELECT id, status FROM orders')).toEqual([{ id: 8, status: 'paid' }]));
    await eventually(() => expect(sink.status()).toMatchObject({ deadLetters: 3, applied: 3, state: 'streaming' }));

    const dead: ReceivedMessage[] = [];
    const consumer = messaging.consumer(unique('dlq-reader'));
    await consumer.run({ topics: [shop.forward.deadLetterTopic], fromBeginning: true, eachMessage: async (m) => void dead.push(m) });
    await eventually(() => expect(dead).toHaveLength(3), 20_000);
    await consumer.disconnect();

    const byReason = Object.fromEntries(dead.map((m) => [m.headers['strangler.errors.reason'], m]));
    expect(Object.keys(byReason).sort()).toEqual(['rejected_by_target', 'unknown_table', 'unparseable']);
    expect(byReason.unparseable.headers).toMatchObject({
      '__connect.errors.topic': usersTopic,
      '__connect.errors.connector.name': shop.forward.name,
      '__connect.errors.exception.class.name': 'PoisonEventError',
    });
    expect(byReason.unparseable.value?.toString()).toBe('{"before": null, "after": {');
    expect(byReason.unknown_table.headers['__connect.errors.exception.message']).toMatch(/payments/);
    expect(byReason.rejected_by_target.headers).toMatchObject({ '__connect.errors.topic': ordersTopic, 'strangler.errors.sqlstate': '23514' });
    expect(byReason.rejected_by_target.key).toBe('{"id":7}');
  });

  it('skips a change older than the target application\'s own write to the row, counts it as a conflict and logs the key', async () => {
    const conflictsBefore = sink.status().conflicts;
    // The service's own application renames user 1 now; a monolith change committed a minute ago arrives late.
    await query(shop.service.url, "UPDATE users SET full_name = 'Renamed In Service' WHERE id = 1");
    const minuteAgo = Date.now() - 60_000;
    await send(messagesFor({ ...f('users'), op: 'u', before: monolithUser(1, 'Before Poison'), after: monolithUser(1, 'Stale Monolith Name'), tsMs: minuteAgo }, { id: 1 }));
    await eventually(() => expect(sink.status().conflicts).toBe(conflictsBefore + 1), 20_000);
    expect((await userNames())[0]).toBe('Renamed In Service');
    const line = captured.lines.find((l) => String(l.msg).startsWith('conflict on users {"id":1}'));
    expect(line).toMatchObject({ table: 'users', key: { id: 1 }, sourceTs: minuteAgo, level: 40 });
    expect(line!.targetWriteTs).toBeGreaterThan(minuteAgo);

    // A newer monolith change wins again.
    await send(messagesFor({ ...f('users'), op: 'u', after: monolithUser(1, 'Newest Monolith Name'), tsMs: Date.now() + 1_000 }, { id: 1 }));
    await eventually(async () => expect((await userNames())[0]).toBe('Newest Monolith Name'));
  });

  it('skips a change the source repeats after a newer one of the same row, without calling it a conflict', async () => {
    const before = sink.status();
    const older = messagesFor({ ...f('users'), op: 'u', after: monolithUser(3, 'Committed Earlier') }, { id: 3 });
    const newer = messagesFor({ ...f('users'), op: 'u', after: monolithUser(3, 'Committed Later') }, { id: 3 });
    // What a source restarted after a crash does: it sends again what was in flight, here after a later change.
    await send(older, newer, older);
    await eventually(() => expect(sink.status().replayed).toBe(before.replayed + 1), 20_000);
    expect((await userNames())[1]).toBe('Committed Later');
    expect(sink.status()).toMatchObject({ conflicts: before.conflicts, applied: before.applied + 2 });
  });

  it('applies a primary-key change (a delete and a create at one position) and skips a re-sent copy of all of it', async () => {
    const topic = topicFor(shop.forward.topicPrefix, 'public', 'users');
    const ids = async () => (await query<{ id: number }>(shop.service.url, 'SELECT id FROM users WHERE id IN (90, 91) ORDER BY id')).map((r) => r.id);
    await send(messagesFor({ ...f('users'), op: 'c', after: monolithUser(90, 'Old Key') }, { id: 90 }));
    await eventually(async () => expect(await ids()).toEqual([90]), 20_000);

    // One UPDATE of the key, as the source writes it: both events carry that UPDATE's sequence.
    const removed = changeEvent({ ...f('users'), op: 'd', before: monolithUser(90, 'Old Key') });
    const created = { ...removed, op: 'c' as const, before: null, after: monolithUser(91, 'Old Key') };
    const keyChange: Produced[] = [
      { topic, message: { key: '{"id":90}', value: JSON.stringify(removed) } },
      { topic, message: { key: '{"id":90}', value: null } },
      { topic, message: { key: '{"id":91}', value: JSON.stringify(created) } },
    ];
    const before = sink.status();
    await send(keyChange);
    await eventually(async () => expect(await ids()).toEqual([91]), 20_000);
    await eventually(() => expect(sink.status().applied).toBe(before.applied + 2));

    // A source restarted after a crash sends the transaction again, the change at the sink's mark included.
    await send(keyChange);
    await eventually(() => expect(sink.status().replayed).toBe(before.replayed + 2), 20_000);
    expect(sink.status().applied).toBe(before.applied + 2);
    expect(await ids()).toEqual([91]);
  });

  it('waits for a target that refuses connections and then applies everything, losing nothing', async () => {
    await query(admin(), `ALTER DATABASE "${shop.service.name}" ALLOW_CONNECTIONS false`);
    // Only the sink's connections: the test's own idle clients to that database have no 'error' listener.
    await query(admin(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'strangler-sink-%'", [shop.service.name]);
    const ids = Array.from({ length: 50 }, (_, i) => 100 + i);
    await send(...ids.map((id) => messagesFor({ ...f('users'), op: 'c', after: monolithUser(id) }, { id })));
    await eventually(() => expect(sink.status().state).toBe('retrying'), 20_000);
    expect(sink.status().error).toBeDefined();
    // Stuck changes age: the lag is how long the oldest one has waited, and it grows while the target is away.
    const stuckLag = sink.status().lagMs!;
    expect(stuckLag).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(sink.status().lagMs!).toBeGreaterThanOrEqual(stuckLag + 1_500);

    await query(admin(), `ALTER DATABASE "${shop.service.name}" ALLOW_CONNECTIONS true`);
    await eventually(async () => expect(await query(shop.service.url, 'SELECT count(*)::int AS n FROM users WHERE id >= 100')).toEqual([{ n: 50 }]), 30_000);
    await eventually(() => expect(sink.status().state).toBe('streaming'));
    expect(sink.status().error).toBeUndefined();
    // Everything applied: nothing waits, so no lag.
    await eventually(() => expect(sink.status().lagMs).toBe(0));
    expect(captured.lines.some((l) => l.msg === 'target unavailable, retrying')).toBe(true);
  });

  it('survives its connections being killed in the middle of transactions', async () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => 10_000 + i);
    await send(...ids.map((id) => messagesFor({ ...f('users'), op: 'c', after: monolithUser(id) }, { id })));
    const deadline = Date.now() + 2_000;
    let killed = 0;
    while (Date.now() < deadline) {
      const rows = await query<{ t: boolean }>(
        admin(),
        "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'strangler-sink-%'",
        [shop.service.name],
      );
      killed += rows.filter((r) => r.t).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(killed).toBeGreaterThan(0);
    await eventually(async () => expect(await query(shop.service.url, 'SELECT count(*)::int AS n FROM users WHERE id >= 10000')).toEqual([{ n: 5_000 }]), 30_000);
    await eventually(() => expect(sink.status().state).toBe('streaming'));
  });
});
