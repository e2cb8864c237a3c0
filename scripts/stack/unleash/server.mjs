/**
 * Runs the real Unleash server in its own process (unleash-server is ESM only, and it installs process-wide hooks:
 * signal handlers, an unhandledRejection logger, prom-client metrics, log4js). Started by scripts/stack/unleash.ts.
 *
 * Environment: DATABASE_URL (Unleash's own database), PORT, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN,
 * optional UNLEASH_LOG_LEVEL (debug|info|warn|error, default warn).
 */
import { format } from 'node:util';

const started = Date.now();

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`unleash: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const databaseUrl = new URL(required('DATABASE_URL'));
const port = Number(required('PORT'));
const adminToken = required('UNLEASH_ADMIN_TOKEN');
const clientToken = required('UNLEASH_CLIENT_TOKEN');
// `<project>:<environment>.<secret>`: the stored token's scope is parsed from it, and Unleash refuses a backend
// token for all environments.
const clientScope = /^([^:.]+):([^:.*]+)\.(.+)$/.exec(clientToken);
if (!adminToken.startsWith('*:*.') || !clientScope) {
  console.error('unleash: tokens must look like *:*.<secret> (admin) and <project>:<environment>.<secret> (backend)');
  process.exit(2);
}

// Unleash computes `options.telemetry || SEND_TELEMETRY (default true)`, so `telemetry: false` alone changes nothing.
process.env.SEND_TELEMETRY = 'false';
// Jest sets NODE_ENV=test, which puts Unleash in its own test mode: the open-source limits (only the default project,
// only the development and production environments) switch off and errors become stack-trace pages. The server
// should behave the same whoever starts it.
process.env.NODE_ENV = 'production';
// db-migrate's use of pg triggers a pg@9 deprecation warning on every start; nothing we can act on.
process.noDeprecation = true;
// The migrator swaps DATABASE_URL in and out around db-migrate; the parsed `db` options below are the only source.
delete process.env.DATABASE_URL;

const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];
const threshold = Math.max(0, LEVELS.indexOf(process.env.UNLEASH_LOG_LEVEL ?? 'warn'));

/** Plain one-line logs instead of log4js, whose global configure() would also reformat every other category. */
function getLogger(category) {
  const log = (level) => (...args) => {
    if (LEVELS.indexOf(level) < threshold) return;
    const line = `${new Date().toISOString()} ${level} ${category}: ${format(...args)}\n`;
    (LEVELS.indexOf(level) >= 2 ? process.stderr : process.stdout).write(line);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal') };
}

let unleash;
let stopping = false;
async function shutdown(reason) {
  if (stopping || !unleash) process.exit(stopping ? 1 : 0);
  stopping = true;
  try {
    await unleash.stop();
    process.exit(0);
  } catch (err) {
    console.error(`unleash: error while stopping (${reason}): ${err?.stack ?? err}`);
    process.exit(1);
  }
}
// Registered before start-up so a stop during migrations does not wait for them.
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// Started with an IPC channel: if the parent dies without stopping us (even by SIGKILL), the channel closes.
if (process.send) process.on('disconnect', () => void shutdown('parent gone'));

const { start } = await import('unleash-server');

try {
  unleash = await start({
    db: {
      host: databaseUrl.hostname,
      port: Number(databaseUrl.port || 5432),
      user: decodeURIComponent(databaseUrl.username),
      password: decodeURIComponent(databaseUrl.password),
      database: decodeURIComponent(databaseUrl.pathname.replace(/^\//, '')),
      // Without this Unleash builds `{ rejectUnauthorized: false }`, which pg treats as "use TLS", and a local
      // Postgres without TLS refuses the connection.
      ssl: false,
    },
    server: {
      port,
      host: '127.0.0.1',
      unleashUrl: `http://127.0.0.1:${port}`,
      // Our own handler below exits once; Unleash's would race it with a second process.exit.
      gracefulShutdownEnable: false,
    },
    authentication: {
      // Only inserted when the token table is empty, i.e. on a fresh database.
      initApiTokens: [
        { secret: adminToken, type: 'admin', tokenName: 'strangler-admin', projects: ['*'], environment: '*' },
        {
          secret: clientToken,
          type: 'backend',
          tokenName: 'strangler-backend',
          projects: [clientScope[1]],
          environment: clientScope[2],
        },
      ],
    },
    // Otherwise it calls version.unleash.run some seconds after start-up.
    versionCheck: { enable: false },
    getLogger,
  });
} catch (err) {
  console.error(`unleash: start-up failed: ${err?.stack ?? err}`);
  process.exit(1);
}

// One line the parent can show; the parent decides readiness by polling, not by parsing this.
console.log(`unleash ready on http://127.0.0.1:${port} after ${Date.now() - started} ms (pid ${process.pid})`);
