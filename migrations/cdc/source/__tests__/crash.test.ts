import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import type { Messaging } from '../../../../lib/messaging/types';
import { topicFor } from '../../events/envelope';
import { readSourceOffsets } from '../../offsets/source-offsets';
import type { PipelineDefinition } from '../../pipeline/definition';
import { dropPipelineSource } from '../drop';
import { TopicCollector, confirmedFlushLsn, connect, currentLsn, definitionFor, testMessaging } from './helpers';

const REPO = path.resolve(__dirname, '../../../..');
const RUNNER = path.join(__dirname, 'fixtures', 'run-source.ts');
const SEED = 500;

function startChild(definition: PipelineDefinition, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUNNER], {
    cwd: REPO,
    env: { ...process.env, CDC_DEFINITION: JSON.stringify(definition), KAFKA_BROKERS: testKafkaBrokers(), CDC_HEARTBEAT_MS: '300', LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'silent', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (process.env.CHILD_LOG_LEVEL) child.stdout!.on('data', (d: Buffer) => process.stderr.write(d));
  if (process.env.CHILD_LOG_LEVEL) child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  // The caller watches the database instead (to kill the child at a precise moment).
  if (extraEnv.CDC_NO_WAIT) return Promise.resolve(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`source child did not start streaming: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('streaming')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`source child exited with ${code}: ${stderr}`));
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

jest.setTimeout(180_000);

describeWithKafka('CDC source killed with SIGKILL mid-stream', () => {
  let db: TestDatabase;
  let sql: Client;
  let writerSql: Client;
  let messaging: Messaging;
  let child: ChildProcess | null = null;

  beforeAll(async () => {
    db = await createTestDatabase('cdckill');
    sql = await connect(db);
    writerSql = await connect(db);
    await sql.query(`
      CREATE TABLE ledger (id serial PRIMARY KEY, version integer NOT NULL, note text NOT NULL);
      INSERT INTO ledger (version, note) SELECT 0, 'seed' FROM generate_series(1, ${SEED});
    `);
    messaging = testMessaging();
  });

  afterAll(async () => {
    if (child && child.exitCode === null) await kill9(child);
    await messaging?.disconnect();
    await writerSql?.end();
    await sql?.end();
    await db?.drop();
  });

  it('loses no committed change across two kills and restarts, and never snapshots again', async () => {
    const definition = definitionFor(db, ['ledger']);
    const topic = topicFor(definition.topicPrefix, 'public', 'ledger');
    child = await startChild(definition);

    // Every committed row image (id:version) and every committed delete must reach Kafka at least once.
    const committedImages = new Set<string>();
    const committedDeletes = new Set<number>();
    let writing = true;
    const writer = (async () => {
      let live = Array.from({ length: SEED }, (_, i) => i + 1);
      const versions = new Map<number, number>(live.map((id) => [id, 0]));
      for (let i = 0; writing; i++) {
        const pick = live[Math.floor(Math.random() * live.length)];
        await writerSql.query('BEGIN');
        const done: (() => void)[] = [];
        if (i % 3 === 0) {
          const { rows } = await writerSql.query<{ id: number }>(`INSERT INTO ledger (version, note) VALUES (0, 'new') RETURNING id`);
          done.push(() => {
            live.push(rows[0].id);
            versions.set(rows[0].id, 0);
            committedImages.add(`${rows[0].id}:0`);
          });
        } else if (i % 11 === 0) {
          await writerSql.query('DELETE FROM ledger WHERE id = $1', [pick]);
          done.push(() => {
            live = live.filter((id) => id !== pick);
            committedDeletes.add(pick);
          });
        } else {
          const version = versions.get(pick)! + 1;
          await writerSql.query('UPDATE ledger SET version = $2 WHERE id = $1', [pick, version]);
          done.push(() => {
            versions.set(pick, version);
            committedImages.add(`${pick}:${version}`);
          });
        }
        await writerSql.query('COMMIT');
        for (const f of done) f();
      }
    })();

    for (let kill = 0; kill < 2; kill++) {
      await sleep(1_200);
      await kill9(child);
      await sleep(300);
      child = await startChild(definition);
    }
    await sleep(800);
    writing = false;
    await writer;
    // The source confirms a position only once everything before it is in Kafka: wait for that first, so a slow
    // consumer below cannot be mistaken for a lost change (and a stuck source fails here, saying so).
    const written = await currentLsn(sql);
    await eventually(async () => expect((await confirmedFlushLsn(sql, definition.slot))!).toBeGreaterThanOrEqual(written), 60_000, 250);

    const collector = new TopicCollector(messaging);
    await collector.start([topic]);
    try {
      await eventually(
        () => {
          const seen = new Set<string>();
          const deleted = new Set<number>();
          for (const e of collector.events(topic)) {
            if (e.after) seen.add(`${e.after.id}:${e.after.version}`);
            if (e.op === 'd') deleted.add(e.before!.id as number);
          }
          expect([...committedImages].filter((k) => !seen.has(k))).toEqual([]);
          expect([...committedDeletes].filter((id) => !deleted.has(id))).toEqual([]);
        },
        60_000,
        250,
      );
      const reads = collector.events(topic).filter((e) => e.op === 'r');
      expect(reads).toHaveLength(SEED);
      expect(new Set(reads.map((e) => e.after!.id)).size).toBe(SEED);
      expect(committedImages.size).toBeGreaterThan(100);
      const offsets = await readSourceOffsets(sql, definition.name);
      expect(offsets?.snapshotCompleted).toBe(true);
    } finally {
      await collector.stop();
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
      await dropPipelineSource(definition);
    }
  });

  it('redoes the snapshot from scratch after a kill in the middle of it', async () => {
    await sql.query(`CREATE TABLE big (id integer PRIMARY KEY, v integer NOT NULL); INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g;`);
    const definition = definitionFor(db, ['big']);
    const topic = topicFor(definition.topicPrefix, 'public', 'big');
    const slowSnapshot = { CDC_SNAPSHOT_CHUNK: '50' };
    child = await startChild(definition, { ...slowSnapshot, CDC_NO_WAIT: '1' });
    await eventually(async () => {
      const offsets = await readSourceOffsets(sql, definition.name).catch(() => null);
      const { rows } = await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [definition.slot]);
      expect(offsets?.snapshotCompleted === false && rows.length === 1).toBe(true);
    }, 30_000, 50);
    // Kill only once part of the snapshot is in Kafka: a fixed sleep raced the first chunk on a busy machine.
    await eventually(async () => {
      const ends = await messaging.admin.endOffsets(topic).catch(() => []);
      expect(ends.some((e) => BigInt(e.offset) > 0n)).toBe(true);
    }, 30_000, 50);
    await kill9(child);
    await sql.query('UPDATE big SET v = -1 WHERE id = 1');

    child = await startChild(definition, { CDC_SNAPSHOT_CHUNK: '5000' });
    const collector = new TopicCollector(messaging);
    await collector.start([topic]);
    try {
      await eventually(() => {
        const last = collector.events(topic).filter((e) => e.source.snapshot === 'last');
        expect(last).toHaveLength(1);
        // Generous: a 20k-row snapshot through Kafka on a busy 2-core machine can take a while.
      }, 90_000, 250);
      const reads = collector.events(topic).filter((e) => e.op === 'r');
      // The first attempt's partial output stays in Kafka; the second snapshot is complete and sees the update.
      expect(reads.length).toBeGreaterThan(20_000);
      expect(new Set(reads.map((e) => e.after!.id)).size).toBe(20_000);
      expect(reads.filter((e) => e.source.snapshot === 'first')).toHaveLength(2);
      expect(reads.filter((e) => e.after!.id === 1).at(-1)!.after!.v).toBe(-1);
      expect((await readSourceOffsets(sql, definition.name))?.snapshotCompleted).toBe(true);
    } finally {
      await collector.stop();
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
      await dropPipelineSource(definition);
    }
  });
});
