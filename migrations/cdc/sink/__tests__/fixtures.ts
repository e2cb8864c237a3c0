import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createSequelize } from '../../../../lib/db/sequelize';
import { migrate } from '../../../../lib/db/migrator';
import { createLogger } from '../../../../lib/logger';
import type { Message, Messaging } from '../../../../lib/messaging/types';
import { planSchema, type Plan } from '../../../../control/plan';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../../../../test/harness/database';
import { migrations as monolithMigrations } from '../../../../monolith/src/db/migrations';
import { ordersSchema } from '../../../../extracted/orders/src/db/migrations/0001-orders';
import { usersSchema } from '../../../../extracted/users/src/db/migrations/0001-users';
import { DEBEZIUM_FORMAT_VERSION, topicFor, type ChangeEvent, type Op, type Row } from '../../events/envelope';
import { pipelinesFor, type PipelineDefinition } from '../../pipeline/definition';

export const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

/**
 * The demo plan's users and orders mappings in one context, so one pipeline carries a user and that user's order;
 * `users` replaces the users table's mapping (a plan changed during the extraction).
 */
export function shopPlan(monolithDatabase: string, serviceDatabase: string, users: Record<string, unknown> = { table: 'users', columns: { name: 'full_name' } }): Plan {
  return planSchema.parse({
    version: 1,
    monolith: { url: 'http://127.0.0.1:3000', database: monolithDatabase },
    contexts: {
      shop: {
        service: { url: 'http://127.0.0.1:3101', database: serviceDatabase },
        routes: ['* /api/users'],
        tables: {
          users,
          orders: { table: 'orders' },
          order_items: {
            table: 'orders',
            embed: { column: 'items', parentKey: 'order_id', orderBy: 'position', fields: { sku: 'sku', quantity: 'quantity', unit_price_cents: 'unitPriceCents' } },
          },
        },
      },
    },
  });
}

export interface Shop {
  monolith: TestDatabase;
  service: TestDatabase;
  forward: PipelineDefinition;
  reverse: PipelineDefinition;
  drop(): Promise<void>;
}

/**
 * A monolith database and a service database (users + orders tables) with their real migrations, and both
 * pipelines with topic prefixes, groups and dead-letter topics of their own, so test files never share topics.
 */
export async function createShop(): Promise<Shop> {
  const [monolith, service] = await Promise.all([createTestDatabase('mono'), createTestDatabase('svc')]);
  const logger = createLogger('test', 'silent');
  for (const [db, list] of [
    [monolith, monolithMigrations],
    [service, [usersSchema, ordersSchema]],
  ] as const) {
    const sequelize = createSequelize(db.url, logger);
    await migrate(sequelize, [...list], logger);
    await sequelize.close();
  }
  const { forward, reverse } = pipelinesFor(shopPlan(monolith.url, service.url), 'shop', testServerUrl());
  const tag = randomBytes(4).toString('hex');
  const isolate = (d: PipelineDefinition): PipelineDefinition => ({
    ...d,
    // `<context>-<direction>` stays the shape: the loop guard pairs a sink with the opposite source by it.
    name: d.name.replace(/-(forward|reverse)$/, `_${tag}-$1`),
    topicPrefix: `${d.topicPrefix}_${tag}`,
    consumerGroup: `${d.consumerGroup}-${tag}`,
    deadLetterTopic: `${d.deadLetterTopic}-${tag}`,
  });
  return {
    monolith,
    service,
    forward: isolate(forward),
    reverse: isolate(reverse),
    drop: async () => void (await Promise.all([monolith.drop(), service.drop()])),
  };
}

let clock = Date.parse('2024-05-01T10:00:00Z');
/** Strictly increasing commit times, as a real source would stamp them. */
export const nextTs = () => (clock += 1000);

export interface EventSpec {
  definition: PipelineDefinition;
  table: string;
  op: Op;
  before?: Row | null;
  after?: Row | null;
  tsMs?: number;
  txId?: number;
}

let lsn = 24_023_128;

/** A change event exactly as Debezium's PostgreSQL connector writes it (JSON converter, schemas.enable=false). */
export function changeEvent(spec: EventSpec): ChangeEvent {
  const ts = spec.tsMs ?? nextTs();
  lsn += 8;
  return {
    before: spec.before ?? null,
    after: spec.after ?? null,
    source: {
      version: DEBEZIUM_FORMAT_VERSION,
      connector: 'postgresql',
      name: spec.definition.topicPrefix,
      ts_ms: ts,
      snapshot: spec.op === 'r' ? 'true' : 'false',
      db: spec.definition.source.database,
      // A snapshot read has no previous commit: `[null, consistentPoint]`, as the source writes it.
      sequence: JSON.stringify([spec.op === 'r' ? null : String(lsn - 8), String(lsn)]),
      schema: 'public',
      table: spec.table,
      txId: spec.txId ?? 555,
      lsn,
      xmin: null,
    },
    op: spec.op,
    ts_ms: ts + 5,
  };
}

export interface Produced {
  topic: string;
  message: Message;
}

/** The Kafka message(s) for an event: key = primary key, a delete followed by its tombstone. */
export function messagesFor(spec: EventSpec, key: Row | null, options: { wrapped?: boolean } = {}): Produced[] {
  const event = changeEvent(spec);
  const topic = topicFor(spec.definition.topicPrefix, 'public', spec.table);
  const wrap = (v: unknown) => (options.wrapped ? { schema: { type: 'struct', optional: false }, payload: v } : v);
  const keyText = key === null ? null : JSON.stringify(wrap(key));
  const out: Produced[] = [{ topic, message: { key: keyText, value: JSON.stringify(wrap(event)) } }];
  if (spec.op === 'd') out.push({ topic, message: { key: keyText, value: null } });
  return out;
}

/** Sends in order, grouped per topic (order within a topic is what Kafka keeps). */
export async function produce(messaging: Messaging, produced: Produced[]): Promise<void> {
  const producer = messaging.producer();
  const byTopic = new Map<string, Message[]>();
  for (const p of produced) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.message]);
  // In slices: one produce request must stay under the broker's message.max.bytes.
  for (const [topic, messages] of byTopic) for (let i = 0; i < messages.length; i += 1_000) await producer.send(topic, messages.slice(i, i + 1_000));
  await producer.disconnect();
}

export async function query<R extends Record<string, unknown> = Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

export const iso = (ms: number) => new Date(ms).toISOString();

export function monolithUser(id: number, name = `User ${id}`, ts = Date.parse('2024-01-01T00:00:00Z')): Row {
  return { id, email: `user${id}@example.com`, name, created_at: iso(ts), updated_at: iso(ts) };
}

export function monolithOrder(id: number, userId: number, status = 'paid', totalCents = 1000): Row {
  const ts = iso(Date.parse('2024-01-02T00:00:00Z'));
  return { id, user_id: userId, status, total_cents: totalCents, currency: 'USD', created_at: ts, updated_at: ts };
}

export function monolithItem(id: number, orderId: number, position: number, sku = `SKU-${id}`, quantity = 1, unitPriceCents = 500): Row {
  return { id, order_id: orderId, position, sku, quantity, unit_price_cents: unitPriceCents };
}
