import type { Side } from '../../../../control/contracts';
import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSink } from '../cdc-sink';
import { readConflicts } from '../conflict-log';
import { createShop, messagesFor, monolithOrder, monolithUser, produce, query, type Produced, type Shop } from './fixtures';

/**
 * Both sides wrote the same row between two syncs: the service's application wrote it after the monolith committed
 * the change the forward pipeline now brings. The table's policy in the plan says whose version stays, and every
 * conflict is kept with both versions.
 */
describeWithKafka('conflict policies per table', () => {
  let shop: Shop;
  let messaging: Messaging;
  let sink: CdcSink;
  let definition: PipelineDefinition;
  let owner: Side = 'monolith';

  beforeAll(async () => {
    shop = await createShop();
    const mapping = shop.forward.mapping;
    definition = {
      ...shop.forward,
      mapping: { ...mapping, users: { ...mapping.users, conflict: 'monolithWins' }, orders: { ...mapping.orders, conflict: 'stageOwnerWins' } },
    };
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'conflicts-test', logger: createLogger('t', 'silent') });
    sink = new CdcSink({ definition, brokers: testKafkaBrokers(), logger: createLogger('t', 'silent'), stageOwner: () => owner });
    await sink.start();
  });
  afterAll(async () => {
    await sink?.stop();
    await messaging?.disconnect();
    await shop?.drop();
  });

  const f = (table: string) => ({ definition, table });
  const send = (...produced: Produced[][]) => produce(messaging, produced.flat());
  const fullName = async (id: number) => (await query<{ full_name: string }>(shop.service.url, 'SELECT full_name FROM users WHERE id = $1', [id]))[0]?.full_name;
  const orderStatus = async (id: number) => (await query<{ status: string }>(shop.service.url, 'SELECT status FROM orders WHERE id = $1', [id]))[0]?.status;

  it("monolithWins: the monolith's late change overrides the service's later write, and the conflict keeps both versions", async () => {
    await send(messagesFor({ ...f('users'), op: 'c', after: monolithUser(1, 'First') }, { id: 1 }));
    await eventually(async () => expect(await fullName(1)).toBe('First'), 20_000);

    await query(shop.service.url, "UPDATE users SET full_name = 'Written By Service' WHERE id = 1");
    const minuteAgo = Date.now() - 60_000;
    await send(messagesFor({ ...f('users'), op: 'u', after: monolithUser(1, 'Written By Monolith'), tsMs: minuteAgo }, { id: 1 }));
    await eventually(async () => expect(await fullName(1)).toBe('Written By Monolith'), 20_000);

    const [entry] = await readConflicts(shop.service.url, definition.name, 10);
    expect(entry).toMatchObject({
      pipeline: definition.name,
      table: 'users',
      key: { id: 1 },
      policy: 'monolithWins',
      chosen: 'monolith',
      incoming: { side: 'monolith', row: { id: 1, full_name: 'Written By Monolith' }, committedAt: new Date(minuteAgo).toISOString() },
      local: { side: 'service', row: { id: 1, full_name: 'Written By Service' } },
    });
    expect(Date.parse(entry.local.writtenAt)).toBeGreaterThan(minuteAgo);
    expect(sink.status().conflicts).toBe(1);
  });

  it('stageOwnerWins: the side that takes the writes in the current stage keeps its version', async () => {
    await send(messagesFor({ ...f('users'), op: 'c', after: monolithUser(2) }, { id: 2 }), messagesFor({ ...f('orders'), op: 'c', after: monolithOrder(10, 2, 'paid') }, { id: 10 }));
    await eventually(async () => expect(await orderStatus(10)).toBe('paid'), 20_000);

    // At cutover the service owns the writes: its later write stays, the monolith's late change is skipped.
    owner = 'service';
    await query(shop.service.url, "UPDATE orders SET status = 'cancelled' WHERE id = 10");
    await send(messagesFor({ ...f('orders'), op: 'u', after: monolithOrder(10, 2, 'payment_declined'), tsMs: Date.now() - 60_000 }, { id: 10 }));
    await eventually(() => expect(sink.status().conflicts).toBe(2), 20_000);
    expect(await orderStatus(10)).toBe('cancelled');

    // Rolled back to the monolith's ownership: the same kind of conflict now goes the monolith's way.
    owner = 'monolith';
    await query(shop.service.url, "UPDATE orders SET status = 'pending' WHERE id = 10");
    await send(messagesFor({ ...f('orders'), op: 'u', after: monolithOrder(10, 2, 'paid'), tsMs: Date.now() - 60_000 }, { id: 10 }));
    await eventually(async () => expect(await orderStatus(10)).toBe('paid'), 20_000);

    const entries = (await readConflicts(shop.service.url, definition.name, 10)).filter((c) => c.table === 'orders');
    expect(entries.map((c) => [c.policy, c.chosen, c.local.row?.status, c.incoming.row?.status])).toEqual([
      ['stageOwnerWins', 'monolith', 'pending', 'paid'],
      ['stageOwnerWins', 'service', 'cancelled', 'payment_declined'],
    ]);
  });
});
