import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { createLibraryMonolith } from './monolith';
import { CATALOG_SCHEMA, LENDING_SCHEMA, MONOLITH_SCHEMA, seedMonolith } from './schema';
import { createCatalogService, createLendingService } from './services';

/**
 * Runs the sample library as a team would run its own app, away from the toolkit: the monolith and the two
 * extracted services, each on its own database. `strangler up --plan examples/library/plan.yaml` then goes in front.
 *
 *   node --import tsx examples/library/start.ts
 *
 * Databases: `LIBRARY_PG_URL` (a server with wal_level=logical; databases library, catalog and lending are created
 * there), else an embedded PostgreSQL on port `LIBRARY_PG_PORT` (5544) with its data in .strangler/library/pg.
 * Ports: `LIBRARY_PORT` 4000, `CATALOG_PORT` 4101, `LENDING_PORT` 4102.
 */
export interface RunningLibrary {
  urls: { monolith: string; catalog: string; lending: string };
  stop(): Promise<void>;
}

export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function serve(app: http.RequestListener, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(app);
  // Longer than the facade keeps idle connections: a server closing a kept-alive socket first resets the next request
  // sent on it (ECONNRESET, which the facade answers with 503 rather than retrying blindly).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Starts the three apps on the given databases (schemas made, the monolith seeded once); port 0 = any free port. */
export async function startLibrary(databases: { monolith: string; catalog: string; lending: string }, ports = { monolith: 0, catalog: 0, lending: 0 }): Promise<RunningLibrary> {
  const pools = { monolith: new Pool({ connectionString: databases.monolith }), catalog: new Pool({ connectionString: databases.catalog }), lending: new Pool({ connectionString: databases.lending }) };
  await pools.monolith.query(MONOLITH_SCHEMA);
  await seedMonolith(pools.monolith);
  await pools.catalog.query(CATALOG_SCHEMA);
  await pools.lending.query(LENDING_SCHEMA);
  const servers = {
    monolith: await serve(createLibraryMonolith(pools.monolith), ports.monolith),
    catalog: await serve(createCatalogService(pools.catalog), ports.catalog),
    lending: await serve(createLendingService(pools.lending), ports.lending),
  };
  return {
    urls: { monolith: servers.monolith.url, catalog: servers.catalog.url, lending: servers.lending.url },
    async stop() {
      await Promise.all(Object.values(servers).map((s) => s.close()));
      await Promise.all(Object.values(pools).map((p) => p.end()));
    },
  };
}

async function main(): Promise<void> {
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  let serverUrl = process.env.LIBRARY_PG_URL;
  let stopPostgres: () => Promise<void> = async () => undefined;
  if (!serverUrl) {
    // The toolkit's embedded PostgreSQL helper, for convenience only: a team brings its own server.
    const { startEmbeddedPostgres } = await import('../../lib/db/embedded-postgres');
    const pg = await startEmbeddedPostgres({ dataDir: path.join(__dirname, '..', '..', '.strangler', 'library', 'pg'), port: port('LIBRARY_PG_PORT', 5544), persistent: true });
    serverUrl = pg.url;
    stopPostgres = () => pg.stop();
  }
  const library = await startLibrary(
    { monolith: await ensureDatabase(serverUrl, 'library'), catalog: await ensureDatabase(serverUrl, 'catalog'), lending: await ensureDatabase(serverUrl, 'lending') },
    { monolith: port('LIBRARY_PORT', 4000), catalog: port('CATALOG_PORT', 4101), lending: port('LENDING_PORT', 4102) },
  );
  const redacted = new URL(serverUrl);
  redacted.password = redacted.password ? '***' : '';
  console.log(`library monolith  ${library.urls.monolith}   (database library)`);
  console.log(`catalog service   ${library.urls.catalog}   (database catalog)`);
  console.log(`lending service   ${library.urls.lending}   (database lending)`);
  console.log(`postgres          ${redacted.toString()}`);
  console.log('Ctrl-C stops them.');
  const stop = () => void library.stop().then(stopPostgres).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`library failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
