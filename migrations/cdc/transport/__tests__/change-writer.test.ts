import { createLogger } from '../../../../lib/logger';
import { MessagingProduceError } from '../../../../lib/messaging/errors';
import type { Message, MessagingAdmin, Producer } from '../../../../lib/messaging/types';
import type { ChangeRecord } from '../../events/change-events';
import { ChangeWriter, type Checkpoint } from '../change-writer';
import { DeliveryError } from '../errors';

class FakeProducer implements Producer {
  readonly sent: { topic: string; messages: Message[] }[] = [];
  failures: ((topic: string) => Error | null)[] = [];
  gate: Promise<void> = Promise.resolve();

  async send(topic: string, messages: Message[]): Promise<void> {
    await this.gate;
    const failure = this.failures.shift()?.(topic);
    if (failure) throw failure;
    this.sent.push({ topic, messages });
  }

  async disconnect(): Promise<void> {}
}

const admin: MessagingAdmin = { ensureTopics: async () => undefined, endOffsets: async () => [] };
const logger = createLogger('writer-test', 'silent');
const rec = (topic: string, key: string): ChangeRecord => ({ topic, key, value: `{"k":"${key}"}` });
const cp = (lsn: number): Checkpoint => ({ lsn: BigInt(lsn), commitTsMs: lsn });

function setup(options: { maxBatchRecords?: number; maxPendingRecords?: number; maxPendingBytes?: number; stallMs?: number } = {}) {
  const producer = new FakeProducer();
  const delivered: number[] = [];
  const writer = new ChangeWriter({
    producer,
    admin,
    logger,
    onDelivered: (c) => delivered.push(Number(c.lsn)),
    retry: { initialMs: 1, maxMs: 5, nonRetriableAttempts: 2 },
    ...options,
  });
  return { producer, delivered, writer };
}

describe('ChangeWriter', () => {
  it('keeps each topic in write order across batches and reports a checkpoint only after what precedes it', async () => {
    const { producer, delivered, writer } = setup({ maxBatchRecords: 2 });
    let release!: () => void;
    producer.gate = new Promise((r) => (release = r));
    writer.write([rec('a', '1'), rec('b', '1'), rec('a', '2')], cp(10));
    writer.write([rec('a', '3')], cp(20));
    await new Promise((r) => setTimeout(r, 20));
    expect(delivered).toEqual([]);
    release();
    await writer.drain();
    expect(delivered.at(-1)).toBe(20);
    const keysOf = (topic: string) => producer.sent.filter((s) => s.topic === topic).flatMap((s) => s.messages.map((m) => m.key));
    expect(keysOf('a')).toEqual(['1', '2', '3']);
    expect(keysOf('b')).toEqual(['1']);
  });

  it('a heartbeat delivered together with the transaction before it keeps that transaction\'s commit time', async () => {
    const { producer } = setup();
    const reported: Checkpoint[] = [];
    const w = new ChangeWriter({ producer, admin, logger, onDelivered: (c) => reported.push(c), retry: { initialMs: 1, maxMs: 5, nonRetriableAttempts: 2 } });
    let release!: () => void;
    producer.gate = new Promise((r) => (release = r));
    w.write([rec('a', '1')], { lsn: 10n, commitTsMs: 1_000 });
    w.write([rec('a', '2')], { lsn: 20n, commitTsMs: 2_000 });
    w.write([], { lsn: 30n, commitTsMs: null });
    release();
    await w.drain();
    expect(reported.at(-1)).toEqual({ lsn: 30n, commitTsMs: 2_000 });
  });

  it('reports a checkpoint without records (a heartbeat) once everything before it is delivered', async () => {
    const { delivered, writer } = setup();
    writer.write([], cp(5));
    await writer.drain();
    expect(delivered).toEqual([5]);
  });

  it('retries only the topic that failed and holds the checkpoint until it succeeds', async () => {
    const { producer, delivered, writer } = setup();
    producer.failures = [() => null, (t) => (t === 'b' ? new MessagingProduceError('b', 'broker down', { retriable: true }) : null)];
    writer.write([rec('a', '1'), rec('b', '1')], cp(7));
    await writer.drain();
    expect(producer.sent.map((s) => s.topic)).toEqual(['a', 'b']);
    expect(delivered).toEqual([7]);
  });

  it('says it is retrying while sends fail, and clears that once a batch is delivered', async () => {
    const { producer, writer } = setup();
    const down = () => new MessagingProduceError('a', 'broker down', { retriable: true });
    producer.failures = [down, down, down];
    expect(writer.retrying).toBeNull();
    writer.write([rec('a', '1')], cp(3));
    // The first attempt fails at once; the writer then sleeps before the next one, reporting the error meanwhile.
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(writer.retrying?.error).toBe('broker down');
    await writer.drain();
    expect(writer.retrying).toBeNull();
    expect(producer.sent).toHaveLength(1);
  });

  it('counts a batch Kafka has not acknowledged for stallMs as not delivering, before any send fails', async () => {
    const { producer, writer } = setup({ stallMs: 30 });
    let release!: () => void;
    producer.gate = new Promise((r) => (release = r));
    writer.write([rec('a', '1')], cp(4));
    await new Promise((r) => setTimeout(r, 5));
    expect(writer.retrying).toBeNull();
    await new Promise((r) => setTimeout(r, 40));
    expect(writer.retrying?.error).toMatch(/no acknowledgement from Kafka/);
    release();
    await writer.drain();
    expect(writer.retrying).toBeNull();
  });

  it('gives up on a non-retriable error without reporting the checkpoint', async () => {
    const { producer, delivered, writer } = setup();
    const tooLarge = () => new MessagingProduceError('a', 'message too large', { retriable: false });
    producer.failures = [tooLarge, tooLarge];
    writer.write([rec('a', '1')], cp(9));
    await expect(writer.drain()).rejects.toBeInstanceOf(DeliveryError);
    expect(delivered).toEqual([]);
    expect(() => writer.write([rec('a', '2')])).toThrow(DeliveryError);
  });

  it('makes writers wait while the backlog is over the limit', async () => {
    const { producer, writer } = setup({ maxPendingRecords: 2 });
    let release!: () => void;
    producer.gate = new Promise((r) => (release = r));
    writer.write([rec('a', '1'), rec('a', '2'), rec('a', '3')]);
    let writable = false;
    const waiting = writer.whenWritable().then(() => (writable = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(writable).toBe(false);
    release();
    await waiting;
    expect(writer.backlog).toBe(0);
  });

  it('makes writers wait while the buffered bytes are over the limit, however few the records', async () => {
    // Two records of ≈ 600 characters each against a 1,000-byte limit: the second write must wait for the first send.
    const { producer, writer } = setup({ maxPendingBytes: 1_000 });
    const wide = (key: string): ChangeRecord => ({ topic: 'a', key, value: 'x'.repeat(600) });
    let release!: () => void;
    producer.gate = new Promise((r) => (release = r));
    writer.write([wide('1')]);
    await writer.whenWritable();
    writer.write([wide('2')]);
    let writable = false;
    const waiting = writer.whenWritable().then(() => (writable = true));
    await new Promise((r) => setTimeout(r, 20));
    expect({ writable, backlog: writer.backlog }).toEqual({ writable: false, backlog: 2 });
    release();
    await waiting;
    await writer.drain();
    expect(producer.sent.flatMap((s) => s.messages.map((m) => m.key))).toEqual(['1', '2']);
  });
});
