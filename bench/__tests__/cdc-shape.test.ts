import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { describeWithKafka, testKafkaBrokers } from '../../test/harness/kafka';
import { ROW_NAMES } from '../cdc/rows';
import type { BenchResults, RowResult } from '../report';
import { isNumber, runBench, type BenchRun } from './run-bench';

// Only the output's shape and that the bench cleans up after itself: speed is never asserted here.
describeWithKafka('npm run bench --smoke --suite cdc', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-cdc-test-'));
  const out = path.join(dir, 'results.json');
  let run: BenchRun;
  let results: BenchResults;

  beforeAll(async () => {
    // The run's Postgres and Kafka: the bench creates its databases, slots and topics there and removes them.
    run = await runBench(['--smoke', '--suite', 'cdc', '--out', out, '--profile-dir', path.join(dir, 'profiles')], {
      BENCH_PG_URL: process.env.STRANGLER_TEST_PG_URL ?? '',
      BENCH_KAFKA_BROKERS: testKafkaBrokers(),
    });
    if (run.code !== 0) throw new Error(`bench exited with ${run.code}:\n${run.stderr.slice(-4000)}`);
    results = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the cdc suite alone and records the load average', () => {
    expect(results.mode).toBe('smoke');
    expect(Object.keys(results.suites)).toEqual(['cdc']);
    expect(results.machine.loadavg.start).toHaveLength(3);
  });

  it('has every CDC row with numbers (an anchor whose tool is missing may be skipped, saying why)', () => {
    const rows = results.suites.cdc.rows;
    expect(rows.map((r) => r.name)).toEqual([...ROW_NAMES]);
    const check = (r: RowResult) => {
      // The debezium row stays out of --smoke (a JVM start, a first Maven build): it must say so.
      if ((r.name === 'raw decode' || r.name === 'COPY pipe' || r.name === 'debezium') && r.status === 'skipped') {
        expect(r.note).toEqual(expect.any(String));
        return;
      }
      expect({ name: r.name, status: r.status, note: r.note }).toMatchObject({ status: 'measured' });
      for (const n of [r.rps, r.requests, r.errors]) expect(isNumber(n)).toBe(true);
      expect(r.rps).toBeGreaterThan(0);
      expect(r.requests).toBeGreaterThan(0);
      // Rows lost on the way are a pipeline bug, whatever the machine's speed.
      expect({ name: r.name, errors: r.errors }).toEqual({ name: r.name, errors: 0 });
      expect(r.cpuUsPerRequest === null || isNumber(r.cpuUsPerRequest)).toBe(true);
    };
    rows.forEach(check);
    for (const [name, rate] of [['lag', 2_000], ['lag at 10k', 10_000]] as const) {
      const lag = rows.find((r) => r.name === name)!;
      for (const n of [lag.p50, lag.p90, lag.p99]) expect(isNumber(n)).toBe(true);
      expect({ name, offeredRate: lag.offeredRate }).toEqual({ name, offeredRate: rate });
    }
    // The smoke run's big transaction: all of it applied, and the pipeline process's peak memory in the note.
    const big = rows.find((r) => r.name === 'big transaction')!;
    expect(big.requests).toBe(5_000);
    expect(big.note).toMatch(/pipeline process peak RSS \d+ MB \(\d+ MB before the insert\)/);
  });

  it('computes the four targets and says whether each is met', () => {
    const byName = new Map(results.suites.cdc.ratios.map((r) => [r.name, r]));
    for (const name of ['end-to-end ÷ raw decode (rows/s)', 'lag p99, commit → applied (ms, absolute)', 'lag at 10k p99, commit → applied (ms, absolute)', 'snapshot ÷ COPY pipe (rows/s)']) {
      const r = byName.get(name)!;
      expect(r.target).toBeDefined();
      expect(isNumber(r.value)).toBe(true);
      expect(typeof r.met).toBe('boolean');
    }
  });

  it('profiles the pipeline process for the source, end-to-end and snapshot paths', () => {
    const profiles = results.suites.cdc.profiles!;
    expect(profiles.map((p) => p.row)).toEqual(['source', 'end-to-end', 'snapshot']);
    for (const p of profiles) {
      expect(p.byCategory.length).toBeGreaterThan(0);
      expect(fs.existsSync(p.file!)).toBe(true);
    }
    expect(run.stdout).toContain('| self time, µs per row | source | end-to-end | snapshot |');
  });

  it('prints the table in rows/s', () => {
    expect(run.stdout).toContain('| row | rows/s | p50 ms | p99 ms | errors | CPU µs/row | × raw decode rows/s | note |');
    for (const name of ROW_NAMES) expect(run.stdout).toContain(`| ${name} |`);
    expect(run.stdout).toMatch(/\| end-to-end ÷ raw decode \(rows\/s\) \| [\d.]+ \| >= 0\.3 \| \*\*(yes|NO)\*\* \|/);
    expect(run.stdout).toMatch(/\| lag p99, commit → applied \(ms, absolute\) \| [\d.,]+ \| <= 100 \| \*\*(yes|NO)\*\* \|/);
    expect(run.stdout).toMatch(/\| lag at 10k p99, commit → applied \(ms, absolute\) \| [\d.,]+ \| <= 250 \| \*\*(yes|NO)\*\* \|/);
  });

  it('leaves no database, slot, topic or group of its own behind', async () => {
    const pg = new Client({ connectionString: process.env.STRANGLER_TEST_PG_URL });
    await pg.connect();
    try {
      const { rows: dbs } = await pg.query("SELECT datname FROM pg_database WHERE datname LIKE 'bench_cdc_%'");
      const { rows: slots } = await pg.query("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '%bench%' OR database LIKE 'bench_cdc_%'");
      expect({ dbs, slots }).toEqual({ dbs: [], slots: [] });
    } finally {
      await pg.end();
    }
    const admin = new Kafka({ brokers: testKafkaBrokers().split(','), clientId: 'cdc-shape-test', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      // Every name the bench gives ends in `<role>_<pid>_<time>`; its lag reader's group starts with bench-cdc.
      const ours = (name: string) => /(snapshot|source|e2e|debezium)_\d+_[0-9a-z]+/.test(name) || name.startsWith('bench-cdc');
      expect((await admin.listTopics()).filter(ours)).toEqual([]);
      const { groups } = await admin.listGroups();
      expect(groups.map((g) => g.groupId).filter(ours)).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});
