import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '../../lib/db/admin';

export function testServerUrl(): string {
  const url = process.env.STRANGLER_TEST_PG_URL;
  if (!url) throw new Error('STRANGLER_TEST_PG_URL is not set: run the tests through jest (global setup starts Postgres)');
  return url;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the run's Postgres server; drop it in afterAll. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const url = await ensureDatabase(server, name);
  return { url, name, drop: () => dropDatabase(server, name) };
}
