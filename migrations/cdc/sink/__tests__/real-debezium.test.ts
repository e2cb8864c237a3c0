import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { createMessaging } from '../../../../lib/messaging/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { planSchema, type CdcOptions } from '../../../../control/plan';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { reconcile } from '../../../reconcile';
import { DEBEZIUM_CONFIGS, fixtureSql, fixtureStatements, readFixture } from '../../events/__tests__/debezium/fixtures';
import { pipelinesFor, type PipelineDefinition } from '../../pipeline/definition';
import { CdcSource } from '../../source/cdc-source';
import { CdcSink } from '../cdc-sink';
import { produce, type Produced } from './fixtures';

/**
 * Our sink fed what real Debezium 3.6.1 wrote (events/__tests__/debezium: every type, snapshot, inserts, updates,
 * unchanged TOAST, deletes, a primary-key change, truncate) in each configuration captured, with and without
 * schemas; then reconcile compares the source rows with what the sink made of them.
 */

/** Columns Debezium's own encoding cannot bring back exactly, left out by the plan as a team would (events/README.md). */
const LOSSY_ALWAYS = [
  'nm', // a streamed name column is null in Debezium 3.6.1
  'vb', // io.debezium.data.Bits keeps neither a varbit's length nor its leading zeros
  'vb20',
  'iv', // MicroDuration counts a month as 30.4375 days
  'tmtz', // ZonedTime keeps the instant in UTC, not the offset
  'ln', // line, lseg, box, path, polygon and circle are not in Debezium's events at all
  'ls',
  'bx',
  'pa',
  'pg',
  'cr',
];
const LOSSY_CONNECT = ['ts', 'tm', 'ats']; // time.precision.mode=connect keeps milliseconds only
const LOSSY_DOUBLE = ['nbig', 'nv', 'm', 'an']; // decimal.handling.mode=double: digits and trailing zeros a double drops
const LOSSY_PRECISE = ['nv', 'an']; // precise: numeric without a scale loses trailing zeros (VariableScaleDecimal)

const CDC_OPTIONS: Record<string, CdcOptions> = {
  '1-default': {},
  '2-string-txmeta-truncate': { 'decimal.handling.mode': 'string', 'provide.transaction.metadata': true, 'skipped.operations': 'none' },
  '3-double-connect-notombstones': { 'decimal.handling.mode': 'double', 'time.precision.mode': 'connect', 'tombstones.on.delete': false },
  // With a schema an event says how it is encoded: the pipeline's modes (defaults here) are for events without one.
  '4-precise-schemas': {},
  '5-string-connect-schemas': {},
  // bytea's hex or base64 is a plain string in the schema: the pipeline's binary.handling.mode says which.
  '6-hex-microtime-txmeta-schemas': { 'binary.handling.mode': 'hex', 'provide.transaction.metadata': true, 'skipped.operations': 'none' },
  '7-base64urlsafe-schemas': { 'binary.handling.mode': 'base64-url-safe' },
  '8-base64': { 'binary.handling.mode': 'base64' },
};

function definitionFor(config: string, monolith: TestDatabase, service: TestDatabase, options: CdcOptions = CDC_OPTIONS[config]): PipelineDefinition {
  const encoded = config.startsWith('5-') ? { 'decimal.handling.mode': 'string', 'time.precision.mode': 'connect' } : options;
  const drop = [
    ...LOSSY_ALWAYS,
    ...(encoded['time.precision.mode'] === 'connect' ? LOSSY_CONNECT : []),
    ...(encoded['decimal.handling.mode'] === 'double' ? LOSSY_DOUBLE : []),
    ...((encoded['decimal.handling.mode'] ?? 'precise') === 'precise' ? LOSSY_PRECISE : []),
  ];
  const context = `dbz_${randomBytes(4).toString('hex')}`;
  const plan = planSchema.parse({
    version: 1,
    monolith: { url: 'http://127.0.0.1:3000', database: monolith.url },
    contexts: {
      [context]: {
        service: { url: 'http://127.0.0.1:3101', database: service.url },
        routes: ['* /api/everything'],
        tables: { everything: { table: 'everything', drop }, scratch: { table: 'scratch' } },
        cdc: options,
        snapshot: 'events',
      },
    },
  });
  const { forward } = pipelinesFor(plan, context, testServerUrl());
  // Topics outlive a test: each configuration gets its own.
  return { ...forward, topicPrefix: context };
}

async function runSql(db: TestDatabase, statements: string[]): Promise<void> {
  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  try {
    for (const statement of statements) await sql.query(statement);
  } finally {
    await sql.end();
  }
}

/** The fixture's tables on both sides, its rows on the monolith's. */
async function fixtureDatabases(): Promise<{ monolith: TestDatabase; service: TestDatabase }> {
  const [monolith, service] = await Promise.all([createTestDatabase('dbzmono'), createTestDatabase('dbzsvc')]);
  await runSql(monolith, [fixtureSql('schema.sql'), fixtureSql('rows.sql')]);
  await runSql(service, [fixtureSql('schema.sql')]);
  return { monolith, service };
}

const reconciled = async (definition: PipelineDefinition) =>
  (await reconcile({ definition })).tables.map((t) => ({ table: t.target, missing: t.missing, extra: t.extra, different: t.different }));

describeWithKafka('CDC sink: real Debezium 3.6.1 topics', () => {
  const logger = createLogger('sink-debezium-test', 'silent');
  let messaging: Messaging;

  beforeAll(() => {
    messaging = createMessaging({ brokers: testKafkaBrokers(), clientId: 'sink-debezium-test', logger });
  });
  afterAll(async () => {
    await messaging.disconnect();
  });

  it.each(DEBEZIUM_CONFIGS)('applies %s; reconcile finds nothing but the documented losses', async (config) => {
    const { monolith, service } = await fixtureDatabases();
    let sink: CdcSink | undefined;
    try {
      // The source database ends as Debezium's did: the same rows, then the same changes.
      await runSql(monolith, fixtureStatements('changes.sql'));
      const definition = definitionFor(config, monolith, service);
      const records = readFixture(config);
      const produced: Produced[] = records.map((r) => ({
        topic: r.topic.replace(/^monolith\./, `${definition.topicPrefix}.`),
        message: { key: r.key, value: r.value },
      }));
      await produce(messaging, produced);
      const changes = records.filter((r) => r.value !== null && !r.topic.endsWith('.transaction') && !r.topic.endsWith('.message')).length;

      sink = new CdcSink({ definition, brokers: testKafkaBrokers(), logger });
      await sink.start();
      await eventually(() => expect(sink!.status()).toMatchObject({ applied: changes, deadLetters: 0 }), 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${JSON.stringify(sink!.status())}`);
      });
      // Debezium skips truncates by default: then the target keeps the row TRUNCATE removed on the source.
      const truncates = CDC_OPTIONS[config]['skipped.operations'] === 'none';
      expect(await reconciled(definition)).toEqual([
        { table: 'everything', missing: [], extra: [], different: [] },
        { table: 'scratch', missing: [], extra: truncates ? [] : [{ id: 1 }], different: [] },
      ]);
    } finally {
      await sink?.stop();
      await Promise.all([monolith.drop(), service.drop()]);
    }
  }, 60_000);
});

/** Ours with schemas on, end to end: what the parity test shows equal to Debezium's, applied by the sink. */
describeWithKafka('CDC pipeline: our schema-carrying events', () => {
  const logger = createLogger('sink-schemas-test', 'silent');

  it.each<[string, CdcOptions]>([
    ['precise, hex bytea, µs times', { 'binary.handling.mode': 'hex', 'time.precision.mode': 'adaptive_time_microseconds', 'skipped.operations': 'none' }],
    ['string, connect', { 'decimal.handling.mode': 'string', 'time.precision.mode': 'connect', 'skipped.operations': 'none', 'provide.transaction.metadata': true }],
  ])('source to sink with %s: reconcile finds nothing but the documented losses', async (_, modes) => {
    const { monolith, service } = await fixtureDatabases();
    const options: CdcOptions = { ...modes, 'key.converter.schemas.enable': true, 'value.converter.schemas.enable': true, 'message.prefix.include.list': 'app\\..*' };
    const definition = definitionFor(modes['decimal.handling.mode'] === 'string' ? '5-' : '4-', monolith, service, options);
    const source = new CdcSource({ definition, brokers: testKafkaBrokers(), logger, heartbeatIntervalMs: 0 });
    const sink = new CdcSink({ definition, brokers: testKafkaBrokers(), logger });
    try {
      await source.start();
      await runSql(monolith, fixtureStatements('changes.sql'));
      await sink.start();
      // 4 snapshot rows, then the 13 changes of changes.sql (the truncate included).
      await eventually(() => expect(sink.status()).toMatchObject({ applied: 17, deadLetters: 0 }), 45_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${JSON.stringify(sink.status())}`);
      });
      expect(await reconciled(definition)).toEqual([
        { table: 'everything', missing: [], extra: [], different: [] },
        { table: 'scratch', missing: [], extra: [], different: [] },
      ]);
    } finally {
      await sink.stop();
      await source.stop();
      await Promise.all([monolith.drop(), service.drop()]);
    }
  }, 90_000);
});
