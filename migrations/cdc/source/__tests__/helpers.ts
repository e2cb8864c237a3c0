import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Consumer, Messaging, ReceivedMessage } from '../../../../lib/messaging/types';
import { testKafkaBrokers } from '../../../../test/harness/kafka';
import type { TestDatabase } from '../../../../test/harness/database';
import type { ChangeEvent } from '../../events/envelope';
import type { PipelineDefinition } from '../../pipeline/definition';

export const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

export const testLogger = () => createLogger('cdc-source-test');

/** A messaging whose producers hold every send until `open()`: Kafka accepting nothing, as seen by the source. */
export function gated(inner: Messaging): Messaging & { open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    ...inner,
    open,
    producer(options) {
      const producer = inner.producer(options);
      return {
        send: async (topic, messages) => {
          await gate;
          await producer.send(topic, messages);
        },
        disconnect: () => producer.disconnect(),
      };
    },
  };
}

/** A messaging whose producers fail every send until `recover()`: Kafka down, as seen by the source. */
export function refusing(inner: Messaging): Messaging & { recover(): void } {
  let down = true;
  return {
    ...inner,
    recover: () => void (down = false),
    producer(options) {
      const producer = inner.producer(options);
      return {
        send: async (topic, messages) => {
          if (down) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
          await producer.send(topic, messages);
        },
        disconnect: () => producer.disconnect(),
      };
    },
  };
}

export function testMessaging(): Messaging {
  return createMessaging({ brokers: testKafkaBrokers(), clientId: unique('cdc-test-'), logger: testLogger() });
}

/** A pipeline over `tables` of the test database, with names no other test shares (topics outlive a test). */
export function definitionFor(db: TestDatabase, tables: string[], context = unique('c')): PipelineDefinition {
  const id = `strangler_${context}_forward`;
  return {
    name: `${context}-forward`,
    context,
    direction: 'forward',
    topicPrefix: unique('p'),
    source: { databaseUrl: db.url, database: db.name, tables },
    target: { databaseUrl: db.url, database: db.name },
    mapping: {},
    slot: id,
    publication: id,
    consumerGroup: `strangler-${context}-forward-sink`,
    deadLetterTopic: `strangler.dlq.${context}-forward`,
  };
}

export async function connect(db: TestDatabase): Promise<Client> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  return client;
}

export interface Received {
  topic: string;
  key: unknown;
  value: ChangeEvent | null;
  /** The value as written, for what JSON.parse would round (ts_ns). */
  raw: string | null;
  offset: number;
}

/** Reads topics from the beginning into memory, in each topic's order. */
export class TopicCollector {
  readonly messages: Received[] = [];
  private consumer: Consumer | null = null;

  constructor(private readonly messaging: Messaging) {}

  async start(topics: string[]): Promise<void> {
    this.consumer = this.messaging.consumer(unique('collector-'));
    // Whole batches, one commit each: a commit per message made reading a 20k-event topic take most of a test's
    // time limit on a busy CI machine, which looked like changes missing.
    await this.consumer.run({ topics, fromBeginning: true, eachBatch: async (batch) => void this.messages.push(...batch.messages.map(parse)) });
  }

  of(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  events(topic: string): ChangeEvent[] {
    return this.of(topic)
      .map((m) => m.value)
      .filter((v): v is ChangeEvent => v !== null);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

function parse(m: ReceivedMessage): Received {
  const raw = m.value === null ? null : m.value.toString('utf8');
  return {
    topic: m.topic,
    key: m.key === null ? null : JSON.parse(m.key),
    value: raw === null ? null : (JSON.parse(raw) as ChangeEvent),
    raw,
    offset: Number(m.offset),
  };
}

/**
 * Replaces what differs from run to run (clocks, LSNs, transaction ids, generated names) with placeholders after
 * checking each has Debezium's type, so an event can be compared with a fixture as JSON text (field order too).
 */
export function normalise(event: ChangeEvent, definition: PipelineDefinition): unknown {
  const num = (v: unknown, what: string) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${what} should be an integer, got ${JSON.stringify(v)}`);
    return `<${what}>`;
  };
  const s = event.source;
  if (s.name !== definition.topicPrefix) throw new Error(`source.name ${s.name} is not the topic prefix`);
  if (s.db !== definition.source.database) throw new Error(`source.db ${s.db} is not the database`);
  if (s.sequence !== null && !/^\[(null|"\d+"),"\d+"\]$/.test(s.sequence)) throw new Error(`bad sequence ${s.sequence}`);
  // ts_us and ts_ns extend ts_ms (ts_ns is beyond 2^53, so only roughly once parsed).
  const clocks = (c: { ts_ms: number; ts_us?: number; ts_ns?: number }, what: string) => {
    if (Math.floor(c.ts_us! / 1000) !== c.ts_ms || Math.abs(c.ts_ns! / 1000 - c.ts_us!) > 1) throw new Error(`${what} ts_ms/ts_us/ts_ns disagree`);
    return { ts_ms: num(c.ts_ms, 'ts_ms'), ts_us: '<ts_us>', ts_ns: '<ts_ns>' };
  };
  return {
    ...event,
    source: {
      ...s,
      name: '<prefix>',
      ...clocks(s, 'source'),
      db: '<db>',
      sequence: s.sequence === null ? null : '<sequence>',
      txId: s.txId === null ? null : num(s.txId, 'txId'),
      lsn: num(s.lsn, 'lsn'),
    },
    ...clocks(event, 'envelope'),
  };
}

export const currentLsn = async (client: Client) => BigInt((await client.query<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS lsn")).rows[0].lsn);

export async function confirmedFlushLsn(client: Client, slot: string): Promise<bigint | null> {
  const { rows } = await client.query<{ lsn: string | null }>(
    "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  return rows[0]?.lsn ? BigInt(rows[0].lsn) : null;
}
