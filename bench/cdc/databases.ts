import { Client } from 'pg';
import { dropDatabase, ensureDatabase } from '../../lib/db/admin';
import { migrate } from '../../lib/db/migrator';
import { createSequelize } from '../../lib/db/sequelize';
import { withDatabase } from '../../lib/db/urls';
import { migrations as monolithMigrations } from '../../monolith/src/db/migrations';
import { migrations as usersMigrations } from '../../extracted/users/src/db/migrations';

/** Connections the bench opens itself carry this name, so CPU accounting leaves them out. */
export const BENCH_APP = 'bench-cdc';

export async function connect(url: string, name = BENCH_APP): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: name });
  // A server-side disconnect must fail the query in flight, not crash the bench with an unhandled 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * A connection whose commits wait for their WAL flush, as a production monolith's do. The bench's own Postgres runs
 * with synchronous_commit off (like the tests'), and a logical walsender only decodes flushed WAL: an async commit
 * would sit up to wal_writer_delay (200 ms) before any consumer could see it, which is the server's setting, not
 * the pipeline's latency. With fsync off the flush itself costs next to nothing.
 */
export async function connectWriter(url: string, name = BENCH_APP): Promise<Client> {
  const client = await connect(url, name);
  await client.query('SET synchronous_commit = on');
  return client;
}

export interface ShopDatabases {
  monolith: { name: string; url: string };
  service: { name: string; url: string };
  /** A second, empty users service database: the profiled snapshot's target, so it too fills an empty table. */
  profiledService: { name: string; url: string };
  /** Drops every replication slot left on them (DROP DATABASE refuses otherwise), then the databases. */
  drop(): Promise<void>;
}

/** The monolith's and the users service's databases with their real migrations, under names of this run. */
export async function createShopDatabases(serverUrl: string, tag: string): Promise<ShopDatabases> {
  const names = { monolith: `bench_cdc_monolith_${tag}`, service: `bench_cdc_users_${tag}`, profiledService: `bench_cdc_users_p_${tag}` };
  const drop = async () => {
    const admin = await connect(withDatabase(serverUrl, 'postgres'));
    try {
      for (const db of Object.values(names)) {
        await admin.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL', [db]);
        await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [db]);
      }
    } finally {
      await admin.end();
    }
    for (const db of Object.values(names)) await dropDatabase(serverUrl, db);
  };
  try {
    const monolith = { name: names.monolith, url: await ensureDatabase(serverUrl, names.monolith) };
    const service = { name: names.service, url: await ensureDatabase(serverUrl, names.service) };
    const profiledService = { name: names.profiledService, url: await ensureDatabase(serverUrl, names.profiledService) };
    for (const [url, list] of [
      [monolith.url, monolithMigrations],
      [service.url, usersMigrations],
      [profiledService.url, usersMigrations],
    ] as const) {
      const sequelize = createSequelize(url);
      try {
        await migrate(sequelize, [...list]);
      } finally {
        await sequelize.close();
      }
    }
    return { monolith, service, profiledService, drop };
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
}
