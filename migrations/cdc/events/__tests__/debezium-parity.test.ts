import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { CdcSource } from '../../source/cdc-source';
import { TopicCollector, connect, definitionFor, testLogger, testMessaging, type Received } from '../../source/__tests__/helpers';
import { topicFor, transactionTopicFor } from '../envelope';
import { messageTopicFor } from '../message-events';
import { DEFAULT_EVENT_OPTIONS, type EventOptions } from '../options';
import { DEBEZIUM_CONFIGS, fixtureSql, fixtureStatements, readFixture, type CapturedRecord } from './debezium/fixtures';

/**
 * Our source against what real Debezium 3.6.1 wrote for the same rows and changes (./debezium: the SQL, the
 * captured records, and the script that captured them with Debezium's embedded engine). Field by field: keys,
 * every column value, the envelope's and the source block's fields in order, transaction metadata. Values that
 * differ from run to run (clocks, LSNs, transaction ids, names) are checked for shape and consistency instead.
 */

const FIXTURE_PREFIX = 'monolith';

/** Where we differ from Debezium on purpose; each is in events/README.md. */
function documentedDifference(column: string, ours: unknown, theirs: unknown, streamed: boolean): boolean {
  // Debezium 3.6.1's pgoutput decoder writes null for a streamed `name` column; we write its value (as its snapshot does).
  return column === 'nm' && streamed && theirs === null && typeof ours === 'string';
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** `"ts_us":<µs>,"ts_ns":<µs>000…` occurrences: ts_ns is beyond 2^53, so its digits are checked in the raw text. */
function checkClocks(raw: string, where: string, problems: string[]): void {
  for (const m of raw.matchAll(/"ts_ms":(\d+)(?:,"snapshot".*?)?,"ts_us":(\d+),"ts_ns":(\d+)/g)) {
    const [, ms, us, ns] = m;
    if (!us.startsWith(ms) || !ns.startsWith(us) || ns.length !== us.length + 3) problems.push(`${where}: ts_ms ${ms}, ts_us ${us}, ts_ns ${ns} disagree`);
  }
}

function compareRows(ours: Record<string, unknown> | null, theirs: Record<string, unknown> | null, where: string, streamed: boolean, problems: string[]): void {
  if (ours === null || theirs === null) {
    if (ours !== theirs) problems.push(`${where}: ${JSON.stringify(ours)} vs Debezium ${JSON.stringify(theirs)}`);
    return;
  }
  if (!sameJson(Object.keys(ours), Object.keys(theirs))) problems.push(`${where} columns: ${Object.keys(ours)} vs Debezium ${Object.keys(theirs)}`);
  for (const column of Object.keys(theirs)) {
    if (sameJson(ours[column], theirs[column]) || documentedDifference(column, ours[column], theirs[column], streamed)) continue;
    problems.push(`${where}.${column}: ${JSON.stringify(ours[column])?.slice(0, 120)} vs Debezium ${JSON.stringify(theirs[column])?.slice(0, 120)}`);
  }
}

type Json = Record<string, unknown>;

/** The source block: every field Debezium's has, equal but for what differs from run to run (checked for shape). */
function compareSource(s: Json, t: Json, where: string, prefix: string, db: string, problems: string[]): void {
  if (!sameJson(Object.keys(s), Object.keys(t))) problems.push(`${where} source fields: ${Object.keys(s)} vs Debezium ${Object.keys(t)}`);
  const expected: Json = { ...t, name: prefix, db };
  for (const field of ['ts_ms', 'ts_us', 'ts_ns', 'txId', 'lsn', 'sequence']) delete expected[field];
  for (const [field, value] of Object.entries(expected)) if (!sameJson(s[field], value)) problems.push(`${where} source.${field}: ${JSON.stringify(s[field])} vs ${JSON.stringify(value)}`);
  // A non-transactional message has no transaction id.
  if ((t.txId === null) !== (s.txId === null) || (s.txId !== null && !Number.isInteger(s.txId)) || !Number.isInteger(s.lsn)) {
    problems.push(`${where}: txId ${String(s.txId)} and lsn ${String(s.lsn)} vs Debezium ${String(t.txId)} and an integer`);
  }
  const sequence = JSON.parse(String(s.sequence)) as unknown[];
  if (sequence.length !== 2 || sequence[1] !== String(s.lsn) || !(sequence[0] === null || /^\d+$/.test(String(sequence[0])))) {
    problems.push(`${where}: sequence ${String(s.sequence)} does not end in the event's lsn`);
  }
}

function compareTransactionBlock(ours: Json, theirs: Json, where: string, problems: string[]): void {
  const s = ours.source as Json;
  const block = ours.transaction as Json | null;
  const theirBlock = theirs.transaction as Json | null;
  if ((block === null) !== (theirBlock === null)) problems.push(`${where} transaction: ${JSON.stringify(block)} vs Debezium ${JSON.stringify(theirBlock)}`);
  else if (block && theirBlock) {
    if (block.id !== `${String(s.txId)}:${String(s.lsn)}`) problems.push(`${where} transaction.id ${String(block.id)} is not <txId>:<lsn>`);
    if (block.total_order !== theirBlock.total_order || block.data_collection_order !== theirBlock.data_collection_order) {
      problems.push(`${where} transaction order: ${JSON.stringify(block)} vs Debezium ${JSON.stringify(theirBlock)}`);
    }
  }
}

function compareChange(ours: Json, theirs: Json, where: string, prefix: string, db: string, problems: string[]): void {
  if (!sameJson(Object.keys(ours), Object.keys(theirs))) problems.push(`${where} envelope: ${Object.keys(ours)} vs Debezium ${Object.keys(theirs)}`);
  if (ours.op !== theirs.op) problems.push(`${where} op: ${String(ours.op)} vs Debezium ${String(theirs.op)}`);
  if (theirs.op === 'm') {
    if (!sameJson(ours.message, theirs.message)) problems.push(`${where} message: ${JSON.stringify(ours.message)} vs Debezium ${JSON.stringify(theirs.message)}`);
  } else {
    const streamed = (theirs.source as Json).snapshot === 'false';
    compareRows(ours.before as Json | null, theirs.before as Json | null, `${where} before`, streamed, problems);
    compareRows(ours.after as Json | null, theirs.after as Json | null, `${where} after`, streamed, problems);
  }
  compareSource(ours.source as Json, theirs.source as Json, where, prefix, db, problems);
  compareTransactionBlock(ours, theirs, where, problems);
}

/** Debezium 3.6.1 lists a transaction's messages under a Java object's identity, `…LogicalDecodingMessageId@<hash>`. */
const withoutIdentityHash = (collections: unknown) =>
  Array.isArray(collections) ? collections.map((c: Json) => ({ ...c, data_collection: String(c.data_collection).replace(/@[0-9a-f]+$/, '') })) : collections;

function compareTransactionEvent(ours: Json, theirs: Json, where: string, problems: string[]): void {
  if (!sameJson(Object.keys(ours), Object.keys(theirs))) problems.push(`${where} fields: ${Object.keys(ours)} vs Debezium ${Object.keys(theirs)}`);
  for (const field of ['status', 'event_count']) {
    if (!sameJson(ours[field], theirs[field])) problems.push(`${where} ${field}: ${JSON.stringify(ours[field])} vs Debezium ${JSON.stringify(theirs[field])}`);
  }
  if (!sameJson(ours.data_collections, withoutIdentityHash(theirs.data_collections))) {
    problems.push(`${where} data_collections: ${JSON.stringify(ours.data_collections)} vs Debezium ${JSON.stringify(theirs.data_collections)}`);
  }
  if (!/^\d+:\d+$/.test(String(ours.id))) problems.push(`${where}: id ${String(ours.id)} is not <txId>:<lsn>`);
}

interface Split {
  schema: string | null;
  payload: unknown;
}

/** `{schema, payload}` (schemas.enable=true) apart, the schema as JSON text with its names on our topic prefix. */
function split(json: unknown, schemas: boolean, renamePrefix: string | null): Split {
  if (!schemas || json === null) return { schema: null, payload: json };
  const { schema, payload } = json as { schema: unknown; payload: unknown };
  const text = JSON.stringify(schema);
  return { schema: renamePrefix ? text.replaceAll(`"name":"${FIXTURE_PREFIX}.`, `"name":"${renamePrefix}.`) : text, payload };
}

function compareSchemas(ours: Split, theirs: Split, where: string, problems: string[]): void {
  if (ours.schema === theirs.schema) return;
  const a = JSON.parse(ours.schema ?? 'null') as Json | null;
  const b = JSON.parse(theirs.schema ?? 'null') as Json | null;
  // Name the first field that differs, rather than printing two schemas of several kB.
  const fieldsOf = (s: Json | null) => ((s?.fields as Json[] | undefined) ?? []).flatMap((f) => (f.type === 'struct' && Array.isArray(f.fields) ? (f.fields as Json[]).map((g) => ({ ...g, in: f.field })) : [f]));
  const theirFields = fieldsOf(b);
  const first = fieldsOf(a).find((f, i) => !sameJson(f, theirFields[i]));
  const theirFirst = first ? theirFields[fieldsOf(a).indexOf(first)] : undefined;
  problems.push(`${where} schema: ${JSON.stringify(first ?? a).slice(0, 300)} vs Debezium ${JSON.stringify(theirFirst ?? b).slice(0, 300)}`);
}

/** Everything our records differ in from Debezium's, as readable lines (empty: indistinguishable). */
function differences(ours: Received[], theirs: CapturedRecord[], prefix: string, db: string, options: EventOptions): string[] {
  const problems: string[] = [];
  for (let i = 0; i < theirs.length; i++) {
    if (!ours[i]) {
      problems.push(`#${i} ${theirs[i].topic}: missing`);
      continue;
    }
    const where = `#${i} ${theirs[i].topic.slice(FIXTURE_PREFIX.length + 1)}`;
    const transactionTopic = theirs[i].topic.endsWith('.transaction');
    const ourKey = split(ours[i].key, options.keySchemas, null);
    const theirKey = split(theirs[i].key === null ? null : (JSON.parse(theirs[i].key!) as unknown), options.keySchemas, prefix);
    compareSchemas(ourKey, theirKey, `${where} key`, problems);
    const raw = ours[i].raw;
    const ourValue = split(raw === null ? null : JSON.parse(raw), options.valueSchemas, null);
    // A transaction event's key is its id, which holds the run's txId and LSN: checked against its value below.
    const expectedKey = transactionTopic ? { id: (ourValue.payload as Json | null)?.id } : theirKey.payload;
    if (!sameJson(ourKey.payload, expectedKey)) problems.push(`${where} key: ${JSON.stringify(ourKey.payload)} vs Debezium ${JSON.stringify(theirKey.payload)}`);
    if (raw === null || theirs[i].value === null) {
      if (raw !== theirs[i].value) problems.push(`${where}: value ${raw === null ? 'null' : 'set'} vs Debezium ${theirs[i].value === null ? 'null' : 'set'}`);
      continue;
    }
    checkClocks(raw, where, problems);
    const theirValue = split(JSON.parse(theirs[i].value!), options.valueSchemas, prefix);
    compareSchemas(ourValue, theirValue, `${where} value`, problems);
    if (transactionTopic) compareTransactionEvent(ourValue.payload as Json, theirValue.payload as Json, where, problems);
    else compareChange(ourValue.payload as Json, theirValue.payload as Json, where, prefix, db, problems);
  }
  return problems;
}

/** Debezium emits every logical-decoding message; ours only those the option names (changes.sql writes `app.audit`). */
const BASE: EventOptions = { ...DEFAULT_EVENT_OPTIONS, messagePrefixes: ['app\\..*'] };
const SCHEMAS = { keySchemas: true, valueSchemas: true };

const OPTIONS: Record<string, EventOptions> = {
  '1-default': BASE,
  '2-string-txmeta-truncate': { ...BASE, decimal: 'string', transactionMetadata: true, skipped: [] },
  '3-double-connect-notombstones': { ...BASE, decimal: 'double', time: 'connect', tombstones: false },
  '4-precise-schemas': { ...BASE, ...SCHEMAS },
  '5-string-connect-schemas': { ...BASE, ...SCHEMAS, decimal: 'string', time: 'connect' },
  '6-hex-microtime-txmeta-schemas': { ...BASE, ...SCHEMAS, binary: 'hex', time: 'adaptive_time_microseconds', transactionMetadata: true, skipped: [] },
  '7-base64urlsafe-schemas': { ...BASE, ...SCHEMAS, binary: 'base64-url-safe' },
  '8-base64': { ...BASE, binary: 'base64' },
};

describeWithKafka('Debezium 3.6.1 parity: our source and real Debezium on the same rows', () => {
  let messaging: Messaging;

  beforeAll(() => {
    messaging = testMessaging();
  });

  afterAll(async () => {
    await messaging?.disconnect();
  });

  describe.each(DEBEZIUM_CONFIGS)('%s', (config) => {
    let db: TestDatabase;
    let sql: Client;
    let source: CdcSource;
    let collector: TopicCollector;
    let prefix: string;
    let captured: CapturedRecord[];

    beforeAll(async () => {
      captured = readFixture(config);
      db = await createTestDatabase('dbzpar');
      sql = await connect(db);
      await sql.query(fixtureSql('schema.sql'));
      await sql.query(fixtureSql('rows.sql'));
      const definition = { ...definitionFor(db, ['everything', 'scratch']), events: OPTIONS[config] };
      prefix = definition.topicPrefix;
      source = new CdcSource({ definition, brokers: [], messaging, logger: testLogger(), heartbeatIntervalMs: 0 });
      await source.start();
      collector = new TopicCollector(messaging);
      const transactions = OPTIONS[config].transactionMetadata ? [transactionTopicFor(prefix)] : [];
      await collector.start([topicFor(prefix, 'public', 'everything'), topicFor(prefix, 'public', 'scratch'), messageTopicFor(prefix), ...transactions]);
      for (const statement of fixtureStatements('changes.sql')) await sql.query(statement);
      // Topics are consumed apart: wait for as many records as Debezium wrote; the tests below say which are missing.
      await eventually(() => expect(collector.messages.length).toBeGreaterThanOrEqual(captured.length), 30_000).catch(() => undefined);
    }, 60_000);

    afterAll(async () => {
      await source?.stop();
      await collector?.stop();
      await sql?.end();
      await db?.drop();
    });

    /** Ours in Debezium's order: topics are read separately, so records are merged by their position in the WAL. */
    const ours = () => {
      const byTopic = (suffix: string) => collector.messages.filter((m) => m.topic === `${prefix}.${suffix}`);
      return captured.map((c) => c.topic.slice(FIXTURE_PREFIX.length + 1)).map((suffix, i, all) => byTopic(suffix)[all.slice(0, i).filter((s) => s === suffix).length]);
    };

    it('writes every record Debezium wrote, on the same topics and in the same order per topic', () => {
      const counts = (topics: string[]) => topics.reduce<Record<string, number>>((n, t) => ({ ...n, [t]: (n[t] ?? 0) + 1 }), {});
      expect(counts(collector.messages.map((m) => m.topic.slice(prefix.length + 1)))).toEqual(counts(captured.map((c) => c.topic.slice(FIXTURE_PREFIX.length + 1))));
    });

    it('matches keys, values and envelope field by field', () => {
      expect(differences(ours(), captured, prefix, db.name, OPTIONS[config])).toEqual([]);
    });
  });
});
