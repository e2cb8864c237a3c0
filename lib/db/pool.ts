import { Pool, type PoolConfig } from 'pg';

/**
 * A pg Pool that a server ending its connections (a restart, pg_terminate_backend, a dropped database, a failover)
 * never crashes: the failed query or transaction sees the error, and the next one gets a new connection.
 *
 * `onIdleError` hears about idle connections the server ended. Every client also keeps a listener of its own for
 * life: `pool.connect()` hands a client over through a promise, and until the caller's code runs the client has none.
 * A termination that arrives in the same network read as the end of the connection handshake lands exactly there,
 * and an 'error' event without a listener is thrown (seen in CI when a test killed a sink's connections).
 */
export function createPool(config: PoolConfig, onIdleError: (err: Error) => void = () => undefined): Pool {
  const pool = new Pool(config);
  pool.on('error', onIdleError);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
