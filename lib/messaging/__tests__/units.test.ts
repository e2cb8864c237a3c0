import { Writable } from 'node:stream';
import { Partitioners, logLevel, type PartitionerArgs } from 'kafkajs';
import pino from 'pino';
import { ConfigError } from '../../config';
import { kafkaBrokersFromEnv } from '../config';
import { MessageHandlerError, MessagingProduceError } from '../errors';
import { fromKafkaHeaders, fromKafkaMessage } from '../kafka-codec';
import { kafkaLogCreator } from '../kafka-log';
import { partitioner } from '../kafka-producer';

describe('kafkaBrokersFromEnv', () => {
  it('reads a comma-separated list, ignoring blanks', () => {
    expect(kafkaBrokersFromEnv({ KAFKA_BROKERS: ' a:9092, b.internal:19092 ,' })).toEqual(['a:9092', 'b.internal:19092']);
  });

  it('names the variable when it is unset or malformed', () => {
    expect(() => kafkaBrokersFromEnv({})).toThrow(ConfigError);
    expect(() => kafkaBrokersFromEnv({})).toThrow(/KAFKA_BROKERS/);
    expect(() => kafkaBrokersFromEnv({ KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS.*host:port/);
    expect(() => kafkaBrokersFromEnv({ KAFKA_BROKERS: ' , ' })).toThrow(/no broker/);
  });
});

describe('codec', () => {
  it('turns headers into plain strings, the last of repeated keys winning', () => {
    expect(fromKafkaHeaders({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('1'), Buffer.from('2')], d: undefined })).toEqual({
      a: 'x',
      b: 'y',
      c: '2',
    });
  });

  it('keeps values as bytes and keys as text', () => {
    const m = fromKafkaMessage('t', 2, {
      key: Buffer.from('k'),
      value: Buffer.from([0xff]),
      timestamp: '1700000000000',
      attributes: 0,
      offset: '9007199254740993',
      headers: {},
    });
    expect(m).toEqual({
      topic: 't',
      partition: 2,
      offset: '9007199254740993',
      key: 'k',
      value: Buffer.from([0xff]),
      headers: {},
      timestamp: 1_700_000_000_000,
    });
  });
});

describe('kafkaLogCreator', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, stream);
    return { lines, log: kafkaLogCreator(logger)(logLevel.DEBUG) };
  }
  const entry = (namespace: string, level: logLevel, message: string) => ({
    namespace,
    level,
    label: 'X',
    log: { timestamp: 'ts', message, logger: 'kafkajs', broker: 'b:1' },
  });

  it('writes kafkajs entries as pino lines at the matching level', () => {
    const { lines, log } = capture();
    log(entry('Consumer', logLevel.ERROR, 'Crash: boom'));
    log(entry('Runner', logLevel.INFO, 'started'));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', msg: 'Crash: boom', component: 'kafkajs', namespace: 'Consumer', broker: 'b:1' }),
      expect.objectContaining({ level: 'info', msg: 'started' }),
    ]);
    expect(lines[0]).not.toHaveProperty('timestamp');
    expect(lines[0]).not.toHaveProperty('logger');
  });

  it('downgrades single error responses that kafkajs retries itself', () => {
    const { lines, log } = capture();
    log(entry('Connection', logLevel.ERROR, 'Response GroupCoordinator(key: 10, version: 2)'));
    expect(lines[0]).toMatchObject({ level: 'warn' });
  });
});

describe('errors', () => {
  it('are retriable when the root cause is, even under a non-retriable wrapper', () => {
    const root = Object.assign(new Error('leader moved'), { retriable: true });
    const wrapper = Object.assign(new Error('retries exhausted', { cause: root }), { retriable: false });
    expect(new MessagingProduceError('t', 'failed', { cause: wrapper }).retriable).toBe(true);
    expect(new MessagingProduceError('t', 'failed', { cause: new Error('bad') }).retriable).toBe(false);
  });

  it('always retries a failed handler, whatever it threw', () => {
    const err = new MessageHandlerError('t', 0, '5', new TypeError('x is undefined'));
    expect(err).toMatchObject({ name: 'MessageHandlerError', retriable: true, offset: '5' });
    expect(err.message).toBe('handler failed on t[0]@5, will redeliver: x is undefined');
  });
});

describe('partitioner', () => {
  const metadata = (n: number, leader = 1) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader, partitionErrorCode: 0, replicas: [1], isr: [1] }));
  const args = (n: number, key: string | null, leader = 1): PartitionerArgs => ({ topic: 't', partitionMetadata: metadata(n, leader), message: { key, value: 'v' } });
  const keys = ['{"id":1}', '{"id":2}', '{"schema":{"type":"struct"},"payload":{"id":42}}', 'ü✓', '', null];

  it("picks the partition kafkajs' Java-compatible partitioner picks, for one partition and for several", () => {
    const ours = partitioner();
    const java = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 12]) for (const key of keys.filter((k) => k !== null)) expect(ours(args(n, key))).toBe(java(args(n, key)));
    // Keyless records: the only partition, whether its leader is known or not.
    expect(ours(args(1, null))).toBe(0);
    expect(ours(args(1, null, -1))).toBe(0);
  });

  it('keeps a partition the message names', () => {
    expect(partitioner()({ ...args(1, 'k'), message: { key: 'k', value: 'v', partition: 4 } })).toBe(4);
  });
});

