import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database';

describe('test Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('is a real Postgres 17 with logical decoding on, and a fresh database per file', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const version = await client.query('SHOW server_version_num');
      const wal = await client.query('SHOW wal_level');
      const tables = await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      if (!process.env.STRANGLER_PG_URL) expect(Number(version.rows[0].server_version_num)).toBeGreaterThanOrEqual(170000);
      expect(wal.rows[0].wal_level).toBe('logical');
      expect(tables.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });
});
