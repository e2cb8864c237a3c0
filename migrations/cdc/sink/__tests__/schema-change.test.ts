import { createLogger } from '../../../../lib/logger';
import { testServerUrl } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { assignDisjointIdRange } from '../../ids';
import { pipelinesFor, type PipelineDefinition } from '../../pipeline/definition';
import { CdcSource, dropPipelineSource } from '../../source';
import { CdcSink } from '../cdc-sink';
import { createShop, query, shopPlan, type Shop } from './fixtures';

/**
 * A team keeps shipping monolith migrations during an extraction, while the forward pipeline streams. Added columns
 * are carried (or reported), widened types are carried. A change the service cannot follow — a carried column
 * dropped or renamed, a value wider than the service's column — stops the pipeline in `error` with the table, the
 * column and the remedy, before that change; after the remedy (plan and/or service migration, then a restart, as the
 * worker does it from the plan) it resumes there and every row written since arrives.
 */
describeWithKafka('schema changes on a captured monolith table while streaming', () => {
  let shop: Shop;
  let forward: PipelineDefinition;
  let source: CdcSource;
  let sink: CdcSink;
  const logger = createLogger('schema-change', 'silent');
  const brokers = testKafkaBrokers();

  beforeAll(async () => {
    shop = await createShop();
    const id = `strangler_${shop.forward.name.replace(/[^a-z0-9_]/g, '_')}`;
    forward = { ...shop.forward, slot: id, publication: id };
    // The service's own migration ships first: it has `nickname` and `visits` before the monolith does.
    await query(shop.service.url, 'ALTER TABLE users ADD COLUMN nickname text, ADD COLUMN visits integer');
    expect((await assignDisjointIdRange(forward)).ok).toBe(true);
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

  const serviceUsers = (emails: string[]) =>
    query<{ email: string; full_name: string; nickname: string | null; visits: number | string | null }>(
      shop.service.url,
      'SELECT email, full_name, nickname, visits FROM users WHERE email = ANY($1) ORDER BY email',
      [emails],
    );
  const monolith = (sql: string, values: unknown[] = []) => query(shop.monolith.url, sql, values);

  /** The worker's restart: a new sink from the (changed) plan's mapping, resuming from its stored offsets. */
  async function restart(users?: Record<string, unknown>): Promise<void> {
    await sink.stop();
    if (users) {
      const plan = shopPlan(shop.monolith.url, shop.service.url, users);
      forward = { ...forward, mapping: pipelinesFor(plan, 'shop', testServerUrl()).forward.mapping };
    }
    sink = new CdcSink({ definition: forward, brokers, logger });
    await sink.start();
  }

  async function stopsWith(pattern: RegExp): Promise<string> {
    await eventually(() => expect(sink.status()).toMatchObject({ state: 'error', error: expect.stringMatching(pattern) }), 20_000);
    return sink.status().error!;
  }

  it('carries a column the service also has, reports one it lacks, and streams on without a dead letter', async () => {
    await monolith("INSERT INTO users (email, name) VALUES ('before@example.com', 'Before')");
    await eventually(async () => expect(await serviceUsers(['before@example.com'])).toHaveLength(1), 20_000);

    // Both arrive in one monolith migration, with writes right behind it.
    await monolith("ALTER TABLE users ADD COLUMN nickname text DEFAULT 'nick', ADD COLUMN loyalty_points integer DEFAULT 0");
    await monolith("INSERT INTO users (email, name, nickname, loyalty_points) VALUES ('after@example.com', 'After', 'aft', 7)");
    await monolith("UPDATE users SET name = 'Before Again', nickname = 'bef' WHERE email = 'before@example.com'");

    await eventually(async () => {
      expect(await serviceUsers(['after@example.com', 'before@example.com'])).toEqual([
        { email: 'after@example.com', full_name: 'After', nickname: 'aft', visits: null },
        { email: 'before@example.com', full_name: 'Before Again', nickname: 'bef', visits: null },
      ]);
    }, 20_000);
    const status = sink.status();
    expect(status.unmappedColumns).toEqual(['users.loyalty_points']);
    expect(status.deadLetters).toBe(0);
    expect(status.state).toBe('streaming');
  });

  it('carries types the monolith widens (varchar(200) → text, integer → bigint) while the values fit the service', async () => {
    await monolith('ALTER TABLE users ADD COLUMN visits integer');
    await monolith("INSERT INTO users (email, name, visits) VALUES ('narrow@example.com', 'Narrow', 1)");
    await monolith('ALTER TABLE users ALTER COLUMN name TYPE text, ALTER COLUMN visits TYPE bigint');
    await monolith("INSERT INTO users (email, name, visits) VALUES ('wide@example.com', 'Wide', 2147483647)");
    await monolith("UPDATE users SET visits = 2 WHERE email = 'narrow@example.com'");

    await eventually(async () => {
      expect(await serviceUsers(['narrow@example.com', 'wide@example.com'])).toEqual([
        { email: 'narrow@example.com', full_name: 'Narrow', nickname: 'nick', visits: 2 },
        { email: 'wide@example.com', full_name: 'Wide', nickname: 'nick', visits: 2147483647 },
      ]);
    }, 20_000);
    expect(sink.status()).toMatchObject({ state: 'streaming', deadLetters: 0 });
  });

  it('stops at a value wider than the service column (bigint → integer, text → varchar(200)), and resumes after a service migration widens it', async () => {
    await monolith("INSERT INTO users (email, name, visits) VALUES ('big@example.com', 'Big', 3000000000)");
    await monolith("INSERT INTO users (email, name, visits) VALUES ('behind-big@example.com', 'Behind Big', 3)");

    const error = await stopsWith(/users\.visits/);
    expect(error).toMatch(/does not fit the service's users\.visits \(int4/);
    expect(error).toMatch(/widen users\.visits in a target migration/);
    // Nothing past the change: neither it nor the row behind it, and nothing dead-lettered.
    expect(await serviceUsers(['behind-big@example.com', 'big@example.com'])).toEqual([]);
    expect(sink.status().deadLetters).toBe(0);

    const long = 'L'.repeat(250);
    await monolith("INSERT INTO users (email, name) VALUES ('long@example.com', $1)", [long]);
    await query(shop.service.url, 'ALTER TABLE users ALTER COLUMN visits TYPE bigint');
    await restart();
    const second = await stopsWith(/users\.name does not fit the service's users\.full_name \(varchar\(200\)/);
    expect(second).toMatch(/widen users\.full_name in a target migration/);
    await eventually(async () => expect(await serviceUsers(['behind-big@example.com', 'big@example.com'])).toHaveLength(2), 20_000);
    expect(await serviceUsers(['long@example.com'])).toEqual([]);

    await query(shop.service.url, 'ALTER TABLE users ALTER COLUMN full_name TYPE text');
    await restart();
    await eventually(async () => {
      expect(await serviceUsers(['behind-big@example.com', 'big@example.com', 'long@example.com'])).toEqual([
        // bigint now: node-postgres reads it as a string
        { email: 'behind-big@example.com', full_name: 'Behind Big', nickname: 'nick', visits: '3' },
        { email: 'big@example.com', full_name: 'Big', nickname: 'nick', visits: '3000000000' },
        { email: 'long@example.com', full_name: long, nickname: 'nick', visits: null },
      ]);
    }, 20_000);
    expect(sink.status()).toMatchObject({ state: 'streaming', deadLetters: 0 });
  });

  it('stops when a carried column is dropped, stays stopped across a restart, and resumes once the plan drops it', async () => {
    await monolith('ALTER TABLE users DROP COLUMN nickname');
    await monolith("INSERT INTO users (email, name) VALUES ('dropped@example.com', 'Dropped')");
    await monolith("UPDATE users SET name = 'Before Drop Updated' WHERE email = 'before@example.com'");

    const error = await stopsWith(/column users\.nickname, carried into users\.nickname, is gone from its changes \(dropped or renamed\)/);
    expect(error).toMatch(/add nickname to tables\.users\.drop/);
    expect(await serviceUsers(['dropped@example.com'])).toEqual([]);
    expect((await serviceUsers(['before@example.com']))[0].full_name).toBe('Before Again');

    // A restart alone changes nothing: the sink remembers the columns the table had.
    await restart();
    await stopsWith(/users\.nickname/);

    await restart({ table: 'users', columns: { name: 'full_name' }, drop: ['nickname'] });
    await eventually(async () => {
      expect(await serviceUsers(['before@example.com', 'dropped@example.com'])).toEqual([
        { email: 'before@example.com', full_name: 'Before Drop Updated', nickname: 'bef', visits: null },
        { email: 'dropped@example.com', full_name: 'Dropped', nickname: null, visits: null },
      ]);
    }, 20_000);
    expect(sink.status()).toMatchObject({ state: 'streaming', deadLetters: 0 });
  });

  it('stops when a carried column is renamed, naming the new one, and resumes once the plan maps it', async () => {
    await monolith('ALTER TABLE users RENAME COLUMN name TO display_name');
    await monolith("INSERT INTO users (email, display_name) VALUES ('renamed@example.com', 'Renamed')");
    await monolith("UPDATE users SET display_name = 'After Rename' WHERE email = 'after@example.com'");

    const error = await stopsWith(/column users\.name, carried into users\.full_name, is gone/);
    expect(error).toMatch(/new in the same change: display_name/);
    expect(error).toMatch(/tables\.users\.columns: \{ <new name>: full_name \}/);
    // full_name is NOT NULL without a default: a plan that only drops name would leave new rows without a value.
    expect(error).toMatch(/add name to tables\.users\.drop and give users\.full_name a default or drop its NOT NULL/);
    expect(await serviceUsers(['renamed@example.com'])).toEqual([]);
    expect(sink.status().deadLetters).toBe(0);

    await restart({ table: 'users', columns: { display_name: 'full_name' }, drop: ['nickname'] });
    await eventually(async () => {
      expect(await serviceUsers(['after@example.com', 'renamed@example.com'])).toEqual([
        { email: 'after@example.com', full_name: 'After Rename', nickname: 'aft', visits: null },
        { email: 'renamed@example.com', full_name: 'Renamed', nickname: null, visits: null },
      ]);
    }, 20_000);
    expect(sink.status()).toMatchObject({ state: 'streaming', deadLetters: 0 });
  });
});

describeWithKafka('a schema change between the initial bulk load and the first streamed change', () => {
  let shop: Shop;
  let forward: PipelineDefinition;
  let source: CdcSource;
  let sink: CdcSink;
  const logger = createLogger('schema-change-load', 'silent');

  afterAll(async () => {
    await sink?.stop();
    await source?.stop();
    await dropPipelineSource(forward).catch(() => undefined);
    await shop?.drop();
  });

  it('stops at a carried column dropped before any change streamed: the load recorded the columns its rows had', async () => {
    shop = await createShop();
    const id = `strangler_${shop.forward.name.replace(/[^a-z0-9_]/g, '_')}`;
    forward = { ...shop.forward, slot: id, publication: id, snapshot: 'bulk' };
    expect((await assignDisjointIdRange(forward)).ok).toBe(true);
    await query(shop.monolith.url, "INSERT INTO users (email, name) VALUES ('loaded@example.com', 'Loaded')");
    const brokers = testKafkaBrokers();
    source = new CdcSource({ definition: forward, brokers, logger, heartbeatIntervalMs: 1_000 });
    await source.start();
    await eventually(async () => expect(await query(shop.service.url, "SELECT full_name FROM users WHERE email = 'loaded@example.com'")).toEqual([{ full_name: 'Loaded' }]), 20_000);

    await query(shop.monolith.url, 'ALTER TABLE users DROP COLUMN updated_at');
    await query(shop.monolith.url, "INSERT INTO users (email, name) VALUES ('streamed@example.com', 'Streamed')");
    sink = new CdcSink({ definition: forward, brokers, logger });
    await sink.start();
    await eventually(() => expect(sink.status()).toMatchObject({ state: 'error', error: expect.stringMatching(/column users\.updated_at, carried into users\.updated_at, is gone/) }), 20_000);
    expect(await query(shop.service.url, "SELECT email FROM users WHERE email = 'streamed@example.com'")).toEqual([]);
  }, 60_000);
});
