import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database';
import { retry } from '../../retry';
import { createPool } from '../pool';

describe('createPool', () => {
  let db: TestDatabase;
  let admin: Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await db.drop();
  });

  it('survives the server ending its connections at any moment, during the handshake too, and keeps serving', async () => {
    const pool = createPool({ connectionString: db.url, max: 4, application_name: 'strangler-pool-victim' });
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        const { rows } = await admin.query<{ n: number }>(
          "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'strangler-pool-victim'",
        );
        kills += rows[0].n;
      }
    })();
    let answered = 0;
    // Without the pool's own listener on each client, this loop throws an unhandled 'error' within a second or two.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const end = Date.now() + 4_000;
        while (Date.now() < end) {
          const client = await pool.connect().catch(() => null);
          if (!client) continue;
          const ok = await client.query('SELECT 1').then(() => true, () => false);
          if (ok) answered++;
          client.release(!ok);
        }
      }),
    );
    killing = false;
    await killer;
    expect(kills).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    // Once the kills stop, the pool serves again with new connections. An idle client the last kill ended may not
    // have read its termination yet: its query fails, the pool drops it, and the next query gets a new connection.
    const served = await retry(() => pool.query('SELECT 42 AS n'), { initialMs: 10, maxMs: 100, attempts: 5, jitter: 0 });
    expect(served.rows).toEqual([{ n: 42 }]);
    await pool.end();
  });
});
