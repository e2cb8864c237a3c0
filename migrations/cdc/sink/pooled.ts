import type { Pool, PoolClient } from 'pg';
import { isConnectionBroken } from './errors';

/**
 * Runs `fn` on a pooled client. While checked out, a client whose socket dies emits 'error' with no listener of
 * the pool's attached, which would crash the process (a target restarting mid-transaction); the listener here keeps
 * the error for the query that fails with it, and a broken client is destroyed instead of returned to the pool.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  const onError = (err: unknown) => (broken = err);
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionBroken(err)) broken ??= err;
    throw err;
  } finally {
    // A broken client is destroyed on release and may still emit 'error' while it closes: keep a listener on it.
    if (broken === undefined) client.removeListener('error', onError);
    client.release(broken !== undefined);
  }
}
