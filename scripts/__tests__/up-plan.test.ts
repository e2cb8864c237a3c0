import fs from 'node:fs';
import { Client } from 'pg';
import path from 'node:path';
import { isPortTaken, portForLater } from '../../lib/net/ports';
import { processAlive, runCli, tempStackHome } from '../../test/harness/cli';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { eventually } from '../../test/harness/eventually';
import { startLibrary, type RunningLibrary } from '../../examples/library/start';
import { UnleashAdminClient } from '../../control/flags/admin-client';
import { applyStage, readStage } from '../../control/flags/stage-flags';
import { TOOLKIT_PORT_ENV } from '../stack/topology';

/**
 * `strangler up --plan` in front of an app the toolkit knows nothing about: the sample library, run here as a team
 * runs its own app, on its own databases. Only the plan tells the toolkit about it.
 */
jest.setTimeout(600_000);

const PLAN = 'examples/library/plan.yaml';

async function toolkitPorts(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of Object.values(TOOLKIT_PORT_ENV)) env[name] = String(await portForLater());
  return env;
}

describe('strangler up --plan (the sample library)', () => {
  let dbs: TestDatabase[];
  let library: RunningLibrary;
  let planEnv: Record<string, string>;

  beforeAll(async () => {
    dbs = await Promise.all(['library', 'catalog', 'lending'].map((p) => createTestDatabase(p)));
    library = await startLibrary({ monolith: dbs[0].url, catalog: dbs[1].url, lending: dbs[2].url });
    planEnv = {
      LIBRARY_URL: library.urls.monolith,
      CATALOG_URL: library.urls.catalog,
      LENDING_URL: library.urls.lending,
      LIBRARY_DATABASE: dbs[0].url,
      CATALOG_DATABASE: dbs[1].url,
      LENDING_DATABASE: dbs[2].url,
      // The run's broker: up starts no Kafka of its own when KAFKA_BROKERS is set.
      KAFKA_BROKERS: process.env.STRANGLER_TEST_KAFKA_BROKERS ?? '',
    };
  });
  afterAll(async () => {
    await library?.stop();
    // The toolkit's replication slots stay on the user's databases after it stops (README: what the toolkit adds).
    for (const d of dbs ?? []) {
      const c = new Client({ connectionString: d.url });
      await c.connect();
      await c.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = current_database() AND active');
      await c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()').catch(() => undefined);
      await c.end();
    }
    await Promise.all((dbs ?? []).map((d) => d.drop()));
  });

  it('refuses with one line and starts nothing when the monolith is down', async () => {
    const home = tempStackHome();
    const ports = await toolkitPorts();
    try {
      const run = runCli(['up', '--plan', PLAN], { STRANGLER_HOME: home, ...ports, ...planEnv, LIBRARY_URL: 'http://127.0.0.1:9' });
      const { code } = await run.exited();
      expect(code).not.toBe(0);
      const last = run.output().trim().split('\n').pop();
      expect(last).toMatch(/^strangler: plan check failed: FAIL {2}url monolith: http:\/\/127\.0\.0\.1:9 does not answer: .+ — fix: start it, or fix its url in the plan \(and \d+ more: strangler plan check --plan examples\/library\/plan\.yaml\)$/);
      for (const port of Object.values(ports)) expect(await isPortTaken(Number(port))).toBe(false);
      expect(fs.existsSync(path.join(home, 'private', 'stack.json'))).toBe(false);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('starts only the toolkit in front of the library, makes its flags, passes the demo on catalog, and stops cleanly', async () => {
    if (!planEnv.KAFKA_BROKERS) throw new Error('the test needs the run\'s Kafka broker (STRANGLER_TEST_KAFKA_BROKERS)');
    const home = tempStackHome();
    const ports = await toolkitPorts();
    const env = { STRANGLER_HOME: home, ...ports, ...planEnv };
    // Replica identity set ahead of traffic, as the README advises: the only change plan check makes, and only so.
    const check = runCli(['plan', 'check', '--plan', PLAN, '--apply'], env);
    expect((await check.exited()).code).toBe(0);
    expect(check.output()).toContain('applied: ALTER TABLE "books" REPLICA IDENTITY FULL');

    // A busy CI machine lags the forward pipeline past the facade's default 500 ms re-ask of a differing read.
    const run = runCli(['up', '--plan', PLAN], { ...env, SHADOW_READ_DELAY_MS: '3000' });
    try {
      // The table after 'stack is up' can arrive in a later chunk than that line: wait for the last line up prints.
      await run.waitFor('Ctrl-C stops everything.', 240_000);
      const out = run.output();
      for (const name of ['postgres', 'unleash', 'cdc', 'facade']) expect(out).toMatch(new RegExp(`\\n${name} `));
      // Nothing of the shop: no monolith or service of its own, no shop flags.
      for (const name of ['monolith', 'users', 'orders']) expect(out).not.toMatch(new RegExp(`\\n${name} `));
      expect(out).toContain('flags made for: catalog, lending');

      const viaFacade = await fetch(`http://127.0.0.1:${ports.FACADE_PORT}/api/books?limit=100`);
      expect(viaFacade.headers.get('x-strangler-upstream')).toBe('monolith');
      expect(viaFacade.headers.get('x-strangler-context')).toBe('catalog');
      expect(((await viaFacade.json()) as { items: unknown[] }).items).toHaveLength(40);

      const status = runCli(['status', '--json'], { STRANGLER_HOME: home });
      expect((await status.exited()).code).toBe(0);
      expect(JSON.parse(status.output()).contexts.map((c: { name: string }) => c.name).sort()).toEqual(['catalog', 'lending']);

      // A context someone else put in a stage is not the demo's to reset.
      const stack = JSON.parse(fs.readFileSync(path.join(home, 'private', 'stack.json'), 'utf8'));
      const admin = new UnleashAdminClient({ url: stack.unleash.url, adminToken: stack.unleash.adminToken });
      await applyStage(admin, 'lending', 'shadow');
      const refused = runCli(['demo', '--context', 'lending'], { STRANGLER_HOME: home });
      expect((await refused.exited()).code).toBe(1);
      expect(refused.output().trim()).toMatch(/^strangler: lending is at shadow with \d+ shadow comparisons, and the demo did not put it there; `strangler demo --context lending --yes` rolls it back to monolith and clears its shadow counts first$/);
      expect((await readStage(admin, 'lending')).stage).toBe('shadow');
      await applyStage(admin, 'lending', 'monolith');

      // A modest rate: the gates need ~100 compared and ~100 served requests, not a stress test of a busy CI machine.
      const demo = runCli(['demo', '--context', 'catalog', '--rps', '12'], { STRANGLER_HOME: home });
      const demoExit = await demo.exited();
      if (demoExit.code !== 0) throw new Error(`strangler demo failed:\n${demo.output()}`);
      expect(demo.output()).toContain('demo passed: catalog went monolith → shadow → canary → cutover → (rollback) → cutover → retired');
      expect(demo.output()).toMatch(/rollback lost nothing: books id=[0-9a-f-]{36}, written on the service at cutover, is in the monolith/);
      await eventually(async () => {
        const s = runCli(['status', '--json'], { STRANGLER_HOME: home });
        expect((await s.exited()).code).toBe(0);
        const catalog = JSON.parse(s.output()).contexts.find((c: { name: string }) => c.name === 'catalog');
        expect(catalog).toMatchObject({ stage: 'retired', pipelines: { forward: { state: 'streaming' }, reverse: { state: 'streaming' } } });
      }, 15_000, 500);

      const state = JSON.parse(fs.readFileSync(path.join(home, 'private', 'stack.json'), 'utf8'));
      const pids: number[] = state.components.map((c: { pid?: number }) => c.pid).filter(Boolean);
      run.child.kill('SIGINT');
      expect((await run.exited()).code).toBe(0);
      for (const port of Object.values(ports)) expect(await isPortTaken(Number(port))).toBe(false);
      for (const pid of pids) expect(processAlive(pid)).toBe(false);
      // The library itself still runs: up never owned it.
      expect((await fetch(`${library.urls.monolith}/health`)).status).toBe(200);
    } finally {
      run.child.kill('SIGKILL');
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
