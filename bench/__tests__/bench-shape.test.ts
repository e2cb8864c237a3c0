import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResults, RowResult } from '../report';
import { ROW_NAMES } from '../facade/rows';
import { isNumber, runBench, type BenchRun } from './run-bench';

// Only the output's shape: speed is never asserted here (the machine is shared and CI does not benchmark).
describe('npm run bench --smoke --suite facade', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-bench-test-'));
  const out = path.join(dir, 'results.json');
  let run: BenchRun;
  let results: BenchResults;

  beforeAll(async () => {
    // The run's Postgres hosts the bench's Unleash and facade databases (created and dropped by the bench).
    // The CDC suite has a test of its own (cdc-shape.test.ts), so the two run in parallel.
    run = await runBench(['--smoke', '--suite', 'facade', '--out', out, '--profile-dir', path.join(dir, 'profiles')], { BENCH_PG_URL: process.env.STRANGLER_TEST_PG_URL ?? '' });
    if (run.code !== 0) throw new Error(`bench exited with ${run.code}:\n${run.stderr.slice(-4000)}`);
    results = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes results.json with the machine, its load average and the load settings', () => {
    expect(results).toMatchObject({ version: 1, mode: 'smoke', load: { connections: 32, threads: 2, rounds: 1, users: 1000 } });
    expect(results.machine.loadavg.start).toHaveLength(3);
    expect(results.machine.loadavg.end).toHaveLength(3);
    expect(isNumber(results.machine.loadavg.max1)).toBe(true);
    expect(['wrk', 'autocannon']).toContain(results.load.generator);
  });

  it('has every facade row, measured with numbers (nginx may be skipped, saying why)', () => {
    const rows = results.suites.facade.rows;
    expect(rows.map((r) => r.name)).toEqual(ROW_NAMES);
    const check = (r: RowResult) => {
      if (r.name.startsWith('nginx') && r.status !== 'measured') {
        expect(r.note).toEqual(expect.any(String));
        return;
      }
      expect(r.status).toBe('measured');
      for (const n of [r.rps, r.p50, r.p90, r.p99, r.requests, r.errors]) expect(isNumber(n)).toBe(true);
      expect(r.rounds).toHaveLength(1);
      expect(r.rps).toBeGreaterThan(0);
    };
    rows.forEach(check);
    const canary = rows.find((r) => r.name === 'facade/canary50')!;
    expect(canary.details).toMatchObject({ servedBy: { orders: expect.any(Number), monolith: expect.any(Number) } });
    const shadow = rows.find((r) => r.name === 'facade/shadow100')!;
    expect(shadow.details).toMatchObject({ shadow: expect.any(Object) });
  });

  it('computes the ratios against the anchors and says which targets are met', () => {
    const { rows, ratios } = results.suites.facade;
    const nginxMeasured = rows.find((r) => r.name === 'nginx')!.status === 'measured';
    const byName = new Map(ratios.map((r) => [r.name, r]));
    for (const name of ['facade/monolith ÷ node-forward (req/s)', 'facade/monolith ÷ node-forward (p99)', 'facade/shadow100 ÷ facade/monolith (p99)']) {
      const r = byName.get(name)!;
      expect(r.target).toBeDefined();
      expect(isNumber(r.value)).toBe(true);
      expect(typeof r.met).toBe('boolean');
    }
    expect(isNumber(byName.get('facade/monolith ÷ naive (req/s)')!.value)).toBe(true);
    expect(byName.get('facade/monolith ÷ nginx (req/s)')!.value === null).toBe(!nginxMeasured);
  });

  it('profiles the facade next to node-forward and summarises where the time goes', () => {
    const profiles = results.suites.facade.profiles!;
    expect(profiles.map((p) => p.row)).toEqual(['node-forward', 'facade/monolith', 'facade/shadow100']);
    for (const p of profiles) {
      expect(p.topSelf.length).toBeGreaterThan(0);
      expect(isNumber(p.topSelf[0].pct)).toBe(true);
      expect(p.byCategory.length).toBeGreaterThan(0);
      expect(p.requests).toBeGreaterThan(0);
      expect(fs.existsSync(p.file!)).toBe(true);
    }
    expect(run.stdout).toContain('| self time, µs per request | node-forward | facade/monolith | facade/shadow100 |');
  });

  it('prints the markdown tables', () => {
    expect(run.stdout).toContain('| row | req/s | p50 ms | p99 ms |');
    expect(run.stdout).toContain('| ratio | value | target | met |');
    for (const name of ROW_NAMES) expect(run.stdout).toContain(`| ${name} |`);
  });
});
