import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, isPortTaken } from '../../../lib/net/ports';
import { ensureKafkaJars, kafkaLaunchProblem, KafkaLauncherError, startKafkaBroker } from '../kafka-broker';

async function twoFreePorts(): Promise<[number, number]> {
  const a = await freePort();
  let b = await freePort();
  while (b === a) b = await freePort();
  return [a, b];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Any process whose command line mentions `needle` (Linux /proc): catches a JVM that escaped under another pid. */
function processesMentioning(needle: string): number[] {
  if (!fs.existsSync('/proc/self/cmdline')) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

const problem = kafkaLaunchProblem();
const describeLauncher = problem && !process.env.CI ? describe.skip : describe;
// Straight to stderr: Jest's default reporter drops console output of suites whose tests were all skipped.
if (problem && !process.env.CI) process.stderr.write(`skipping Kafka launcher tests: ${problem.message}\n`);

describeLauncher('Kafka broker launcher', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-kafka-test-'));
    // Normally cached by global setup; a cold cache (KAFKA_BROKERS set) fetches here.
    await ensureKafkaJars();
  }, 300_000);
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('starts a second broker on free ports that serves clients, and leaves no process behind', async () => {
    const [port, controllerPort] = await twoFreePorts();
    const dataDir = path.join(tmp, 'second');
    const broker = await startKafkaBroker({ dataDir, port, controllerPort });
    try {
      expect(broker.brokers).toBe(`127.0.0.1:${port}`);
      expect(isAlive(broker.pid)).toBe(true);
      const admin = new Kafka({ brokers: [broker.brokers], clientId: 'launcher-test', logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic: 'launcher-check', numPartitions: 2 }], waitForLeaders: true });
        expect(await admin.listTopics()).toContain('launcher-check');
      } finally {
        await admin.disconnect();
      }
    } finally {
      await broker.stop();
    }
    expect(isAlive(broker.pid)).toBe(false);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(await isPortTaken(port)).toBe(false);
    expect(await isPortTaken(controllerPort)).toBe(false);
    await broker.stop(); // idempotent
  });

  it('refuses a port that is already taken, before starting a JVM', async () => {
    const [port, controllerPort] = await twoFreePorts();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const start = startKafkaBroker({ dataDir: path.join(tmp, 'taken'), port, controllerPort });
      await expect(start).rejects.toThrow(KafkaLauncherError);
      await expect(start).rejects.toMatchObject({ code: 'port_in_use' });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('reports a JVM that dies during start-up with its last log lines', async () => {
    const [port, controllerPort] = await twoFreePorts();
    const dataDir = path.join(tmp, 'tiny-heap');
    const start = startKafkaBroker({ dataDir, port, controllerPort, heapMb: 1 });
    await expect(start).rejects.toMatchObject({ name: 'KafkaLauncherError', code: 'exited' });
    await expect(start).rejects.toThrow(/last log lines:[\s\S]*heap/i);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('names the missing tool in one line', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(tmp, 'no-tools-here');
    try {
      const fetch = ensureKafkaJars(path.join(tmp, 'empty-cache'));
      await expect(fetch).rejects.toMatchObject({ code: 'java_missing' });
      await expect(fetch).rejects.toThrow(/^java not found on PATH: [^\n]+$/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
