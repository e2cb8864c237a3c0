import { ensureDatabase } from '../../lib/db/admin';
import { startEmbeddedPostgres } from '../../lib/db/embedded-postgres';
import { isPortTaken } from '../../lib/net/ports';

export interface StackPostgres {
  /** Server URL (any database); `database(name)` creates one if missing and returns its URL. */
  serverUrl: string;
  embedded: boolean;
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

export class PortTakenError extends Error {
  constructor(what: string, port: number) {
    super(`port ${port} is already in use (needed by ${what}); stop what runs there or set another port`);
    this.name = 'PortTakenError';
  }
}

/** The stack's Postgres: `STRANGLER_PG_URL` if set, else an embedded PostgreSQL 17 with data kept in `.strangler/pg`. */
export async function startStackPostgres(opts: { dataDir: string; port: number; externalUrl?: string }): Promise<StackPostgres> {
  if (opts.externalUrl) {
    const serverUrl = opts.externalUrl;
    return { serverUrl, embedded: false, database: (name) => ensureDatabase(serverUrl, name), stop: async () => undefined };
  }
  if (await isPortTaken(opts.port)) throw new PortTakenError('embedded Postgres (STRANGLER_PG_PORT)', opts.port);
  const server = await startEmbeddedPostgres({ dataDir: opts.dataDir, port: opts.port, persistent: true });
  return { serverUrl: server.url, embedded: true, database: (name) => ensureDatabase(server.url, name), stop: () => server.stop() };
}
