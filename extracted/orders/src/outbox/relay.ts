import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';
import { Counter } from 'prom-client';
import type { Sequelize } from 'sequelize';
import { registry } from '../../../../lib/http/metrics';
import type { Logger } from '../../../../lib/logger';
import type { Message, MessagingAdmin, Producer } from '../../../../lib/messaging/types';
import { OutboxStore, type OutboxRow } from './outbox.store';

/** Test seams: make a relay "die" at a chosen point of a pass. A throw rolls the pass back like a crash would. */
export interface RelayFaults {
  /** Rows are claimed (locked), nothing is published yet. */
  afterClaim?(rows: OutboxRow[]): void | Promise<void>;
  /** Kafka has acknowledged the rows; they are not marked published yet. */
  afterPublish?(rows: OutboxRow[]): void | Promise<void>;
}

export interface OutboxRelayOptions {
  sequelize: Sequelize;
  /** Should be idempotent, so the client's own retries never duplicate a message. */
  producer: Producer;
  /** When given, each topic is created (with `partitions`) before its first message goes out. */
  admin?: MessagingAdmin;
  partitions?: number;
  logger: Logger;
  /** Pause between polls when the outbox is empty. Failures back off from here up to 10 s. */
  intervalMs: number;
  batchSize: number;
  faults?: RelayFaults;
}

export interface OutboxRelay {
  /** Waits for the pass in progress; what it had not marked yet is published again by the next relay. */
  stop(): Promise<void>;
}

const published = new Counter({
  name: 'orders_outbox_published_total',
  help: 'Outbox events the relay published to Kafka (a redelivery after a crash counts again).',
  registers: [registry],
});

const failedPasses = new Counter({
  name: 'orders_outbox_relay_failures_total',
  help: 'Relay passes that failed (Kafka or database unavailable) and were rolled back to retry.',
  registers: [registry],
});

const MAX_BACKOFF_MS = 10_000;

/**
 * Consecutive rows with the same topic and trace go out in one send. Per-trace sends let the Kafka instrumentation
 * continue each event's own trace (it writes its producer span into `traceparent`); without tracing all rows of a
 * topic share one empty trace and go in one request.
 */
function groups(rows: OutboxRow[]): OutboxRow[][] {
  const out: OutboxRow[][] = [];
  for (const row of rows) {
    const last = out[out.length - 1];
    if (last && last[0].topic === row.topic && last[0].headers.traceparent === row.headers.traceparent) last.push(row);
    else out.push([row]);
  }
  return out;
}

const toMessage = (row: OutboxRow): Message => ({
  key: row.key,
  value: JSON.stringify(row.payload),
  headers: { ...row.headers, 'content-type': 'application/json' },
});

/**
 * One pass: claim the oldest unpublished rows, publish them in id order, THEN mark them published, all inside one
 * transaction holding the rows' locks. A crash anywhere before the commit leaves the rows unpublished, so the next
 * relay sends them again: at least once, duplicates possible (consumers dedupe on `event-id`), nothing lost.
 */
export async function relayOnce(options: Omit<OutboxRelayOptions, 'intervalMs' | 'logger'>, ensured = new Set<string>()): Promise<number> {
  const store = new OutboxStore(options.sequelize);
  return options.sequelize.transaction(async (transaction) => {
    const rows = await store.claim(options.batchSize, transaction);
    if (!rows.length) return 0;
    await options.faults?.afterClaim?.(rows);
    const topics = [...new Set(rows.map((r) => r.topic))].filter((t) => !ensured.has(t));
    if (topics.length && options.admin) {
      await options.admin.ensureTopics(topics, options.partitions);
      for (const t of topics) ensured.add(t);
    }
    for (const group of groups(rows)) {
      const traced = propagation.extract(ROOT_CONTEXT, group[0].headers);
      await context.with(traced, () => options.producer.send(group[0].topic, group.map(toMessage)));
    }
    await options.faults?.afterPublish?.(rows);
    await store.markPublished(
      rows.map((r) => r.id),
      transaction,
    );
    published.inc(rows.length);
    return rows.length;
  });
}

/** Polls the outbox until stopped: at once again after a full batch, after `intervalMs` when drained. */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const log = options.logger.child({ component: 'outbox-relay' });
  const ensured = new Set<string>();
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const pass = async () => {
    let delay = options.intervalMs;
    try {
      const n = await relayOnce(options, ensured);
      if (failures) log.info({ failures }, 'outbox relay recovered');
      failures = 0;
      if (n === options.batchSize) delay = 0;
    } catch (err) {
      failures += 1;
      failedPasses.inc();
      delay = Math.min(options.intervalMs * 2 ** failures, MAX_BACKOFF_MS);
      log.warn({ err, failures, retryInMs: delay }, 'outbox relay pass failed; the rows stay unpublished and are retried');
    }
    return delay;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().then((next) => {
        running = undefined;
        schedule(next);
      });
    }, ms);
  };
  schedule(0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
