import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import { isPortTaken } from '../../lib/net/ports';
import { PROJECT_ROOT } from '../../lib/project';
import { sleep } from '../../lib/retry';

export const KAFKA_VERSION = '3.9.1';

const POM = path.join(PROJECT_ROOT, 'scripts', 'stack', 'kafka', 'pom.xml');
const MARKER = '.complete';
const LOG_TAIL_LINES = 40;

export type KafkaLauncherErrorCode =
  | 'java_missing'
  | 'mvn_missing'
  | 'fetch_failed'
  | 'format_failed'
  | 'port_in_use'
  | 'exited'
  | 'start_timeout';

/** Everything that can go wrong while fetching or launching the broker; `code` lets callers tell setup from failure. */
export class KafkaLauncherError extends Error {
  constructor(
    readonly code: KafkaLauncherErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KafkaLauncherError';
  }
}

export function defaultKafkaCacheDir(): string {
  return process.env.STRANGLER_KAFKA_CACHE || path.join(os.homedir(), '.cache', 'strangler', `kafka-${KAFKA_VERSION}`);
}

// `env: process.env` everywhere: spawn then looks commands up in the PATH this module sees (Jest gives each test
// file its own process.env) rather than the one the Node process started with.
function hasTool(command: string, versionFlag: string): boolean {
  const result = spawnSync(command, [versionFlag], { stdio: 'ignore', env: process.env });
  return !result.error && result.status === 0;
}

function requireJava(): void {
  if (!hasTool('java', '-version')) {
    throw new KafkaLauncherError(
      'java_missing',
      'java not found on PATH: the Kafka broker needs a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
    );
  }
}

function requireMaven(): void {
  if (!hasTool('mvn', '-v')) {
    throw new KafkaLauncherError(
      'mvn_missing',
      'mvn not found on PATH: Maven fetches the Kafka jars once (Debian: apt-get install maven)',
    );
  }
}

/**
 * The prerequisite that is missing for launching a broker, or null. Synchronous so a test file can decide to skip
 * before `describe` runs. Maven only counts when the jars are not cached yet.
 */
export function kafkaLaunchProblem(cacheDir = defaultKafkaCacheDir()): KafkaLauncherError | null {
  try {
    requireJava();
    if (!jarsReady(cacheDir)) requireMaven();
    return null;
  } catch (err) {
    if (err instanceof KafkaLauncherError) return err;
    throw err;
  }
}

/** The marker records which pom the jars came from, so editing the pom refetches instead of running stale jars. */
function pomDigest(): string {
  return createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

function jarsReady(cacheDir: string): boolean {
  try {
    return fs.readFileSync(path.join(cacheDir, MARKER), 'utf8').trim() === pomDigest();
  } catch {
    return false;
  }
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Maven's useful line is its first [ERROR]; the rest is a help banner. */
function firstErrorLine(output: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => l.startsWith('[ERROR]')) ?? lines[0] ?? 'no output';
}

/**
 * Copies the broker's jars from Maven Central into `<cacheDir>/libs` once and returns that folder. The copy goes to
 * a private staging folder that is renamed into place, so an interrupted or concurrent fetch never leaves a
 * half-filled `libs` behind the marker.
 */
export async function ensureKafkaJars(cacheDir = defaultKafkaCacheDir()): Promise<string> {
  const libs = path.join(cacheDir, 'libs');
  if (jarsReady(cacheDir)) return libs;
  requireJava();
  requireMaven();
  fs.mkdirSync(cacheDir, { recursive: true });
  const staging = path.join(cacheDir, `libs.partial-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    const { code, output } = await run('mvn', [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ]);
    if (code !== 0) {
      throw new KafkaLauncherError('fetch_failed', `fetching the Kafka ${KAFKA_VERSION} jars failed: ${firstErrorLine(output)}`);
    }
    if (jarsReady(cacheDir)) return libs; // another process finished first; keep its copy
    fs.rmSync(libs, { recursive: true, force: true });
    fs.renameSync(staging, libs);
    fs.writeFileSync(path.join(cacheDir, MARKER), `${pomDigest()}\n`);
    return libs;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

export interface KafkaBrokerOptions {
  /** Holds the generated config and the broker's log segments; reused across starts when it already exists. */
  dataDir: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
  /** Every line the JVM prints; without it the lines are only kept for error messages. */
  onLog?: (line: string) => void;
  cacheDir?: string;
  startTimeoutMs?: number;
}

export interface KafkaBroker {
  /** kafkajs-style broker list, e.g. "127.0.0.1:9092". */
  brokers: string;
  port: number;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

function serverProperties(port: number, controllerPort: number, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    // The default 50 partitions are created on the first consumer group and cost seconds on a single small node.
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    // A new consumer gets its partitions at once instead of after the 3 s default wait for more members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

// Console only: the parent owns the output (onLog, error messages); file appenders would grow unseen.
const LOG4J_PROPERTIES = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.request.logger=WARN',
  'log4j.logger.state.change.logger=WARN',
  'log4j.logger.org.apache.kafka.clients=WARN',
  '',
].join('\n');

/** Kafka's cluster ids are 16 random bytes in URL-safe base64; Kafka itself avoids ones that look like a CLI flag. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

let pdeathsigSupported: boolean | undefined;

/**
 * util-linux `setpriv --pdeathsig` makes the kernel signal the JVM when this process dies, however it dies
 * (SIGKILL, a crashed Jest worker), which no exit handler can cover. It execs, so the pid stays the JVM's.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  pdeathsigSupported ??= hasTool('setpriv', '--version') &&
    spawnSync('setpriv', ['--pdeathsig', 'TERM', '--', 'true'], { stdio: 'ignore', env: process.env }).status === 0;
  return pdeathsigSupported ? ['setpriv', ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
}


function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function brokerAnswers(brokers: string): Promise<boolean> {
  const kafka = new Kafka({
    brokers: [brokers],
    clientId: 'strangler-kafka-launcher',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Starts a single-node KRaft Kafka 3.9 broker (its own controller) on 127.0.0.1 and resolves once a client can list
 * topics. The JVM is a child of this process and never outlives it.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const { port, controllerPort } = options;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  requireJava(); // with cached jars ensureKafkaJars does not look for it
  const libs = await ensureKafkaJars(options.cacheDir);
  const classpath = path.join(libs, '*');

  // A broker already on the port would answer our readiness probe while ours dies on bind.
  for (const p of [port, controllerPort]) {
    if (await isPortTaken(p)) throw new KafkaLauncherError('port_in_use', `port ${p} on 127.0.0.1 is already in use`);
  }

  const dataDir = path.resolve(options.dataDir);
  const configDir = path.join(dataDir, 'config');
  const logDir = path.join(dataDir, 'data');
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(logDir, { recursive: true });
  const serverConfig = path.join(configDir, 'server.properties');
  const log4jConfig = path.join(configDir, 'log4j.properties');
  fs.writeFileSync(serverConfig, serverProperties(port, controllerPort, logDir));
  fs.writeFileSync(log4jConfig, LOG4J_PROPERTIES);
  const log4jFlag = `-Dlog4j.configuration=file:${log4jConfig}`;

  // Formatting is a whole JVM start; a data dir that already has its meta.properties is formatted already.
  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    const format = await run('java', [
      '-Xmx256m',
      log4jFlag,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      randomClusterId(),
      '-c',
      serverConfig,
      '--ignore-formatted',
    ]);
    if (format.code !== 0) {
      const tail = format.output.trim().split('\n').slice(-10).join('\n');
      throw new KafkaLauncherError('format_failed', `formatting the Kafka data dir ${logDir} failed:\n${tail}`);
    }
  }

  const [command, args] = withParentDeathSignal('java', [
    `-Xmx${options.heapMb ?? 512}m`,
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    log4jFlag,
    '-cp',
    classpath,
    'kafka.Kafka',
    serverConfig,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const tail: string[] = [];
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    options.onLog?.(line);
  };
  readline.createInterface({ input: child.stdout! }).on('line', onLine);
  readline.createInterface({ input: child.stderr! }).on('line', onLine);

  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  // An 'exit' listener cannot wait, and only SIGKILL is sure to end the JVM with us. The price: the next start on
  // the same data dir waits ~10 s for the controller to expire the killed broker's session. stop() avoids that.
  const killOnExit = () => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const exited = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;

  const brokers = `127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  const fail = async (code: KafkaLauncherErrorCode, why: string): Promise<never> => {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
    const lines = tail.length ? `; last log lines:\n${tail.join('\n')}` : '';
    throw new KafkaLauncherError(code, `Kafka broker on ${brokers} (data ${dataDir}) ${why}${lines}`);
  };

  try {
    while (!(await isPortTaken(port))) {
      if (exited()) await fail('exited', `exited during start-up (${spawnError?.message ?? `code ${child.exitCode ?? child.signalCode}`})`);
      if (Date.now() > deadline) await fail('start_timeout', `did not listen within ${timeoutMs} ms`);
      await sleep(100);
    }
    while (!(await brokerAnswers(brokers))) {
      if (exited()) await fail('exited', `exited during start-up (code ${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) await fail('start_timeout', `did not answer a metadata request within ${timeoutMs} ms`);
      await sleep(200);
    }
  } catch (err) {
    if (!exited()) child.kill('SIGKILL');
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (exited()) return;
      // SIGTERM runs Kafka's controlled shutdown (flushes, closes the log cleanly); SIGKILL only if that hangs.
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 15_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    })());

  return { brokers, port, dataDir, pid: child.pid!, stop };
}
