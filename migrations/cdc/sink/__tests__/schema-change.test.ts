import { createLogger } from '../../../../lib/logger';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { assignDisjointIdRange } from '../../ids';
import type { PipelineDefinition } from '../../pipeline/definition';
import { CdcSource, dropPipelineSource } from '../../source';
import { CdcSink } from '../cdc-sink';
import { createShop, query, type Shop } from './fixtures';

/**
 * A team keeps shipping monolith migrations during an extraction. Columns the monolith adds while the forward
 * pipeline streams: one the service already has (its migration went first) is carried, one it lacks is left out and
 * reported, and in both cases the pipeline goes on with nothing dead-lettered.
 */
describeWithKafka('schema changes on a captured monolith table while streaming', () => {
  let shop: Shop;
  let forward: PipelineDefinition;
  let source: CdcSource;
  let sink: CdcSink;
  const logger = createLogger('schema-change', 'silent');

  beforeAll(async () => {
    shop = await createShop();
    const id = `strangler_${shop.forward.name.replace(/[^a-z0-9_]/g, '_')}`;
    forward = { ...shop.forward, slot: id, publication: id };
    // The service's own migration ships first: it has `nickname` before the monolith does.
    await query(shop.service.url, 'ALTER TABLE users ADD COLUMN nickname text');
    expect((await assignDisjointIdRange(forward)).ok).toBe(true);
    const brokers = testKafkaBrokers();
    source = new CdcSource({ definition: forward, brokers, logger, heartbeatIntervalMs: 1_000 });
    sink = new CdcSink({ definition: forward, brokers, logger });
    await source.start();
    await sink.start();
  }, 60_000);

  afterAll(async () => {
    await sink?.stop();
    await source?.stop();
    await dropPipelineSource(forward).catch(() => undefined);
    await shop?.drop();
  });

  const serviceUsers = (where: string) => query<{ email: string; full_name: string; nickname: string | null }>(shop.service.url, `SELECT email, full_name, nickname FROM users WHERE ${where} ORDER BY email`);

  it('carries a column the service also has, reports one it lacks, and streams on without a dead letter', async () => {
    await query(shop.monolith.url, "INSERT INTO users (email, name) VALUES ('before@example.com', 'Before')");
    await eventually(async () => expect(await serviceUsers("email = 'before@example.com'")).toHaveLength(1), 20_000);

    // Both arrive in one monolith migration, with writes right behind it.
    await query(shop.monolith.url, "ALTER TABLE users ADD COLUMN nickname text DEFAULT 'nick', ADD COLUMN loyalty_points integer DEFAULT 0");
    await query(shop.monolith.url, "INSERT INTO users (email, name, nickname, loyalty_points) VALUES ('after@example.com', 'After', 'aft', 7)");
    await query(shop.monolith.url, "UPDATE users SET name = 'Before Again', nickname = 'bef' WHERE email = 'before@example.com'");

    await eventually(async () => {
      expect(await serviceUsers("email IN ('after@example.com', 'before@example.com')")).toEqual([
        { email: 'after@example.com', full_name: 'After', nickname: 'aft' },
        { email: 'before@example.com', full_name: 'Before Again', nickname: 'bef' },
      ]);
    }, 20_000);
    const status = sink.status();
    expect(status.unmappedColumns).toEqual(['users.loyalty_points']);
    expect(status.deadLetters).toBe(0);
    expect(status.state).toBe('streaming');
  });
});
