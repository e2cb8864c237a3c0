import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import type { Client } from 'pg';
import { PROJECT_ROOT } from '../../lib/project';
import { unmeasuredRow, type RowResult } from '../report';
import { startProcess, type BenchProcess } from '../tools/processes';
import { firstLine, measure, type CdcRun } from './context';
import { createRawSlot } from './raw-decode';
import { measuredRow, rowWhat } from './rows';

export const DEBEZIUM_VERSION = '3.6.1.Final';

const HARNESS = path.join(PROJECT_ROOT, 'bench', 'cdc', 'debezium');
const FILES = ['pom.xml', 'DebeziumBench.java'].map((f) => path.join(HARNESS, f));
const cacheRoot = () => process.env.STRANGLER_DEBEZIUM_CACHE || path.join(os.homedir(), '.cache', 'strangler', 'bench-debezium');

const hasTool = (command: string, flag: string) => {
  const r = spawnSync(command, [flag], { stdio: 'ignore', env: process.env });
  return !r.error && r.status === 0;
};

/** The compiled harness for the current pom and Java file lives under a folder named after their digest. */
function buildDir(): string {
  const hash = createHash('sha256');
  for (const f of FILES) hash.update(fs.readFileSync(f));
  return path.join(cacheRoot(), hash.digest('hex').slice(0, 16));
}

const built = (dir: string) => fs.existsSync(path.join(dir, 'classpath.txt'));

/** Why the row cannot run here (a tool is missing), or null. Maven only counts while the harness is not built. */
export function debeziumProblem(): string | null {
  if (!hasTool('java', '-version')) return 'java is not installed (Debian: apt-get install openjdk-17-jdk-headless)';
  if (built(buildDir())) return null;
  if (!hasTool('mvn', '-v')) return 'mvn is not installed: Maven builds the Debezium harness once (Debian: apt-get install maven)';
  if (!hasTool('javac', '-version')) return 'javac is not installed: the harness is compiled once (Debian: apt-get install openjdk-17-jdk-headless)';
  return null;
}

/**
 * Compiles the harness and resolves Debezium's jars (into ~/.m2) with Maven, once per change of its files: the
 * first build downloads them from Maven Central, later runs only read the cached class path. Built into a private
 * folder renamed into place, so an interrupted build is never taken for a finished one.
 */
async function ensureHarness(log: (line: string) => void): Promise<{ classpath: string }> {
  const dir = buildDir();
  if (!built(dir)) {
    log(`debezium: building the harness with Maven (first time: downloads Debezium ${DEBEZIUM_VERSION} into ~/.m2)…`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const staging = `${dir}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      const args = ['-q', '-B', '-f', FILES[0], `-Dbench.buildDir=${staging}`, 'compile', 'dependency:build-classpath', '-Dmdep.includeScope=runtime', `-Dmdep.outputFile=${path.join(staging, 'classpath.txt')}`];
      const { code, output } = await collect('mvn', args);
      if (code !== 0 || !built(staging)) throw new Error(`building the Debezium harness failed: ${mavenError(output)}`);
      if (!built(dir)) fs.renameSync(staging, dir);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  const jars = fs.readFileSync(path.join(dir, 'classpath.txt'), 'utf8').trim();
  return { classpath: [path.join(dir, 'classes'), jars].join(path.delimiter) };
}

function collect(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function mavenError(output: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('[ERROR]')) ?? lines.at(-1) ?? 'no output';
}

interface Prepared {
  slot: string;
  publication: string;
  topicPrefix: string;
  classpath: string;
}

/**
 * The `debezium` row of the throughput phase. `prepare` runs before the burst: it builds the harness and makes
 * the row's own pgoutput slot and publication, so Debezium later drains exactly the burst the other rows drain.
 * `measure` runs after the burst. A row that cannot run says why, and the phase goes on.
 */
export async function prepareDebezium(run: CdcRun): Promise<{ measure(): Promise<RowResult> }> {
  const what = rowWhat('debezium', run.volumes, run.recvlogical);
  const notRun = (status: 'skipped' | 'failed', why: string) => ({ measure: async () => unmeasuredRow('debezium', what, status, why) });
  if (run.mode === 'smoke' && !run.namedRows?.includes('debezium')) {
    return notRun('skipped', 'not in --smoke (a JVM start, and on first use a Maven build that downloads Debezium, would lengthen the smoke run and its test): --smoke --rows debezium runs it');
  }
  const problem = debeziumProblem();
  if (problem) return notRun('skipped', problem);
  let prepared: Prepared;
  try {
    const { classpath } = await ensureHarness(run.log);
    const name = `bench_debezium_${run.tag}`;
    prepared = { slot: name, publication: name, topicPrefix: name, classpath };
    await createRawSlot(run.monolith, prepared.slot, prepared.publication, 'users');
  } catch (err) {
    run.log(`debezium: ${firstLine(err)}`);
    return notRun('failed', firstLine(err));
  }
  return { measure: () => measure(run, 'debezium', () => measureDebezium(run, prepared, what)) };
}

async function measureDebezium(run: CdcRun, p: Prepared, what: string): Promise<RowResult> {
  const total = run.volumes.burstRows;
  const topic = `${p.topicPrefix}.public.users`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-debezium-'));
  let jvm: BenchProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await jvm?.stop();
      try {
        await dropSlot(run.monolith, p.slot, p.publication);
        await deleteTopic(run.brokers, topic);
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    })());
  // Interrupted mid-row: the suite's clean-up stops the JVM before it drops the databases.
  run.onCleanup?.(stop);
  try {
    const props = path.join(scratch, 'engine.properties');
    fs.writeFileSync(props, engineProperties(run, p, topic, total, path.join(scratch, 'offsets.dat')));
    const spawned = performance.now();
    jvm = startProcess('debezium', 'java', [
      '-Xmx1g',
      '-XX:+ExitOnOutOfMemoryError',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      p.classpath,
      'DebeziumBench',
      props,
    ]);
    const events = watch(jvm);
    // Its clock starts when it streams (the walsender holds the slot), like our source's.
    await waitFor(() => slotActive(run.monolith, p.slot), events, 180_000, 'Debezium to start streaming');
    const began = performance.now();
    const loadavg1 = run.sampleLoad();
    const sampler = run.sampler(false, [{ pid: jvm.pid, part: 'jvm' }, ...(run.kafkaPid != null ? [{ pid: run.kafkaPid, part: 'kafka' as const }] : [])]);
    await sampler.begin();
    const doneAt = await events.done(60_000);
    const cpu = await sampler.end();
    const first = events.firstAt();
    const firstMs = first === undefined ? null : Math.round(first - began);
    // Done means checked: the topic holds every change of the burst, once.
    const inKafka = await topicRecords(run.brokers, topic);
    const extra = inKafka > total ? `${inKafka - total} records more than the burst on its topic; ` : '';
    return measuredRow('debezium', what, {
      rows: total,
      seconds: (doneAt - began) / 1000,
      cpu,
      loadavg1,
      errors: Math.max(0, total - inKafka),
      note: `${extra}JVM start to streaming ${((began - spawned) / 1000).toFixed(1)} s (not timed), first change handed over after ${firstMs === null ? '–' : (firstMs / 1000).toFixed(2)} s`,
      details: { startMs: Math.round(began - spawned), firstChangeMs: firstMs, topicRecords: inKafka },
    });
  } finally {
    await stop().catch((err: unknown) => run.log(`debezium clean-up: ${firstLine(err)}`));
  }
}

function engineProperties(run: CdcRun, p: Prepared, topic: string, total: number, offsets: string): string {
  const url = new URL(run.dbs.monolith.url);
  const props: Record<string, string | number> = {
    name: 'bench-debezium',
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'plugin.name': 'pgoutput',
    'database.hostname': url.hostname,
    'database.port': url.port || 5432,
    'database.user': decodeURIComponent(url.username),
    'database.password': decodeURIComponent(url.password),
    'database.dbname': run.dbs.monolith.name,
    'slot.name': p.slot,
    'publication.name': p.publication,
    'publication.autocreate.mode': 'disabled',
    // No snapshot; without a stored offset it streams from where the slot was made: before the burst.
    'snapshot.mode': 'no_data',
    'topic.prefix': p.topicPrefix,
    'table.include.list': 'public.users',
    // The bench's end marker and our pipelines' heartbeats are logical messages: not changes of the table.
    'message.prefix.exclude.list': '.*',
    'offset.storage': 'org.apache.kafka.connect.storage.FileOffsetBackingStore',
    'offset.storage.file.filename': offsets,
    'offset.flush.interval.ms': 60_000,
    // JSON without the schema part, like our source's default.
    'converter.schemas.enable': 'false',
    'key.converter.schemas.enable': 'false',
    'value.converter.schemas.enable': 'false',
    'bench.brokers': run.brokers,
    'bench.topic': topic,
    'bench.expect': total,
  };
  const escape = (v: string | number) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return Object.entries(props).map(([k, v]) => `${k}=${escape(v)}\n`).join('');
}

interface HarnessEvents {
  /** Rejects once the JVM has failed or exited. */
  failed: Promise<never>;
  /** When the engine handed over its first batch of changes. */
  firstAt(): number | undefined;
  /** The moment (performance.now()) the JVM reported the burst's last change acknowledged by Kafka. */
  done(stallMs: number): Promise<number>;
}

/** Reads the harness's ACKED / DONE / FAILED lines (see DebeziumBench.java). */
function watch(jvm: BenchProcess): HarnessEvents {
  let acked = 0;
  let movedAt = performance.now();
  let doneAt: number | undefined;
  let firstAt: number | undefined;
  let failure: string | undefined;
  readline.createInterface({ input: jvm.child.stdout! }).on('line', (line) => {
    const [word, rest] = [line.split(' ', 1)[0], line.slice(line.indexOf(' ') + 1)];
    if (word === 'ACKED' && Number(rest) !== acked) {
      acked = Number(rest);
      movedAt = performance.now();
    } else if (word === 'FIRST') firstAt ??= performance.now();
    else if (word === 'DONE') doneAt ??= performance.now();
    else if (word === 'FAILED') failure ??= rest;
  });
  const failed = jvm.exited.then(({ code, signal }) => {
    throw new Error(`Debezium ${failure ? `failed: ${failure}` : `exited (code ${code}, signal ${signal}): ${jvm.lastLines.slice(-4).join(' / ')}`}`);
  });
  failed.catch(() => undefined);
  return {
    failed,
    firstAt: () => firstAt,
    done: async (stallMs) => {
      // The JVM's start is not a stall: its changes can only move once it streams.
      movedAt = performance.now();
      for (;;) {
        if (doneAt !== undefined) return doneAt;
        if (failure) throw new Error(`Debezium failed: ${failure}`);
        if (performance.now() - movedAt > stallMs) throw new Error(`Debezium made no progress for ${Math.round(stallMs / 1000)} s (${acked} changes acknowledged by Kafka)`);
        await Promise.race([sleep(10), failed]);
      }
    },
  };
}

async function waitFor(check: () => Promise<boolean>, events: HarnessEvents, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await Promise.race([check(), events.failed]))) {
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await Promise.race([sleep(25), events.failed]);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function slotActive(db: Client, slot: string): Promise<boolean> {
  const { rows } = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return rows[0]?.active === true;
}

/** After the JVM is gone its walsender may linger a moment; a slot still held by one cannot be dropped. */
async function dropSlot(db: Client, slot: string, publication: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [slot]);
      await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      break;
    } catch (err) {
      if (attempt >= 50) throw err;
      await sleep(100);
    }
  }
  await db.query(`DROP PUBLICATION IF EXISTS ${publication}`);
}

const admin = (brokers: string) => new Kafka({ brokers: brokers.split(','), clientId: 'bench-cdc-debezium', logLevel: logLevel.NOTHING }).admin();

async function topicRecords(brokers: string, topic: string): Promise<number> {
  const a = admin(brokers);
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await a.disconnect();
  }
}

/** Its topic goes at once: on a broker the bench was given it would otherwise stay, and on ours it is only weight. */
async function deleteTopic(brokers: string, topic: string): Promise<void> {
  const a = admin(brokers);
  await a.connect();
  try {
    if ((await a.listTopics()).includes(topic)) await a.deleteTopics({ topics: [topic], timeout: 10_000 });
  } finally {
    await a.disconnect();
  }
}
