import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../logger';
import { MessageHandlerError, MessagingConsumerError, errorMessage } from './errors';
import { fromKafkaMessage } from './kafka-codec';
import type { Consumer, ConsumerRunOptions } from './types';

export interface KafkaConsumerOptions {
  /** How long `run` waits for the first group join before giving up (the broker may be up but the group stuck). */
  joinTimeoutMs?: number;
  /**
   * How long the broker keeps a silent member (default 10 000 ms). A restarted process gets its partitions only once
   * the old member's session has expired, so this is the stall after a crash; kafkajs's 30 s default made it 30 s.
   * Handlers doing long work call `heartbeat()` (batches) or return per message, so a shorter session is safe.
   */
  sessionTimeoutMs?: number;
  /** Default 1 000 ms; must stay well under the session timeout. */
  heartbeatIntervalMs?: number;
}

/**
 * Offsets are committed by us, never by the client's timer: the commit happens right after the handler resolves
 * (see `ConsumerRunOptions`). A handler error is rethrown to kafkajs, whose retry loop fetches again from the last
 * resolved offset, i.e. the failed message.
 */
export function createKafkaConsumer(
  kafka: Kafka,
  groupId: string,
  logger: Logger,
  options: KafkaConsumerOptions = {},
): Consumer {
  const consumer = kafka.consumer({
    groupId,
    // How long the broker holds an empty fetch. Stopping waits for the fetch in flight, so kafkajs's 5 s default
    // made every disconnect (and rebalance hand-over) take 5 s; 500 ms is the Java consumer's default.
    maxWaitTimeInMs: 500,
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
  });
  const log = logger.child({ groupId });
  let state: 'idle' | 'running' | 'closed' = 'idle';

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) log.error({ err: payload.error }, 'consumer crashed and will not restart; nothing is consumed any more');
  });

  const handlerFor = ({ eachMessage, eachBatch }: ConsumerRunOptions) =>
    async function onBatch(payload: EachBatchPayload): Promise<void> {
      const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, uncommittedOffsets } = payload;
      const { topic, partition } = batch;
      // Commits exactly what was resolved, at once, whatever the client's auto-commit thresholds say.
      const commit = () => commitOffsetsIfNecessary(uncommittedOffsets());
      // After a seek or a stop the rest of a batch is stale; what is left uncommitted is fetched again.
      const stale = () => !isRunning() || isStale();

      if (eachBatch) {
        if (stale()) return;
        const messages = batch.messages.map((m) => fromKafkaMessage(topic, partition, m));
        try {
          await eachBatch({ topic, partition, messages, highWatermark: batch.highWatermark }, { heartbeat });
        } catch (err) {
          throw new MessageHandlerError(topic, partition, messages[0].offset, err);
        }
        resolveOffset(batch.messages[batch.messages.length - 1].offset);
        await commit();
        return;
      }

      if (!eachMessage) return;
      for (const raw of batch.messages) {
        if (stale()) return;
        try {
          await eachMessage(fromKafkaMessage(topic, partition, raw));
        } catch (err) {
          throw new MessageHandlerError(topic, partition, raw.offset, err);
        }
        resolveOffset(raw.offset);
        await commit();
        await heartbeat();
      }
    };

  const waitForJoin = (timeoutMs: number) => {
    let cancel: () => void = () => undefined;
    const joined = new Promise<void>((resolve, reject) => {
      const offJoin = consumer.on(consumer.events.GROUP_JOIN, () => done());
      const offCrash = consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) done(payload.error);
      });
      const timer = setTimeout(() => done(new Error(`no group join within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error) => {
        clearTimeout(timer);
        offJoin();
        offCrash();
        if (err) reject(err);
        else resolve();
      };
      cancel = () => done();
    });
    // Start-up failures reject `run` through the try below; this keeps a timeout during connect() from surfacing as
    // an unhandled rejection before anyone awaits `joined`.
    joined.catch(() => undefined);
    return { joined, cancel };
  };

  return {
    groupId,

    async run(run: ConsumerRunOptions): Promise<void> {
      if (state !== 'idle') {
        const why = state === 'running' ? 'run() was already called on this consumer' : 'consumer is disconnected';
        throw new MessagingConsumerError(groupId, why, { retriable: false });
      }
      if (!run.topics.length) throw new MessagingConsumerError(groupId, 'run() needs at least one topic', { retriable: false });
      if (!run.eachMessage === !run.eachBatch) {
        throw new MessagingConsumerError(groupId, 'run() needs exactly one of eachMessage and eachBatch', { retriable: false });
      }
      state = 'running';
      const join = waitForJoin(options.joinTimeoutMs ?? 60_000);
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: run.topics, fromBeginning: run.fromBeginning ?? false });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handlerFor(run) });
        await join.joined;
      } catch (err) {
        join.cancel();
        state = 'closed';
        await consumer.disconnect().catch(() => undefined);
        throw new MessagingConsumerError(groupId, `could not start consuming ${run.topics.join(', ')}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    },

    async disconnect(): Promise<void> {
      state = 'closed';
      await consumer.disconnect();
    },
  };
}
