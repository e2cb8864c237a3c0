import { Client } from 'pg';
import { assertIdentifier, withDatabase } from './urls';

async function withAdmin<T>(serverUrl: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a database if it does not exist; safe to call from several processes at once. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  assertIdentifier(name);
  await withAdmin(serverUrl, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    try {
      await c.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // 42P04 duplicate_database: another process won the race, which is what we wanted.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
  });
  return withDatabase(serverUrl, name);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  assertIdentifier(name);
  await withAdmin(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}
