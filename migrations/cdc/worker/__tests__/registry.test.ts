import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { PipelineRegistry } from '../registry';

describe('the CDC worker\'s pipeline registry', () => {
  let db: TestDatabase;
  let registry: PipelineRegistry | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('registry');
  });
  afterAll(async () => {
    await registry?.close();
    await db?.drop();
  });

  it('outlives the server ending its idle connection (a Postgres restart, a terminated backend) and goes on', async () => {
    registry = await PipelineRegistry.open(db.url);
    await registry.setDesired('users-forward', 'users', 'forward', 'running');
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'strangler-cdc-worker' AND datname = current_database()`,
      );
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // Without a listener, the pool's 'error' for the ended idle connection was unhandled and ended the process.
    await new Promise((r) => setTimeout(r, 200));
    expect(await registry.desiredRunning()).toEqual([{ name: 'users-forward', context: 'users', direction: 'forward' }]);
  });
});
