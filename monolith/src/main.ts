// Must stay the first import: tracing can only patch express, http and pg if it starts before they load.
import { tracing } from '../../lib/telemetry/register';
import { createSequelize } from '../../lib/db/sequelize';
import { migrate } from '../../lib/db/migrator';
import { listen } from '../../lib/http/server';
import { createLogger } from '../../lib/logger';
import { exitWithParent, onShutdown } from '../../lib/process/shutdown';
import { createMonolith } from './app';
import { loadConfig } from './config';
import { migrations } from './db/migrations';
import { startDispatcher } from './notifications/dispatcher';
import { seedDemoData } from './seed';

async function main(): Promise<void> {
  const logger = createLogger('monolith');
  const config = loadConfig();
  const sequelize = createSequelize(config.DATABASE_URL, logger);
  await migrate(sequelize, migrations, logger);
  const monolith = createMonolith({ sequelize, logger });
  if (config.SEED_DEMO_DATA === 'true') await seedDemoData(monolith, logger);
  const server = await listen(monolith.app, config.PORT);
  const dispatcher = startDispatcher(monolith.services.notifications, logger, config.DISPATCH_INTERVAL_MS);
  logger.info({ url: server.url }, 'monolith listening');
  // Closers run last-first: the tracer flushes after the server has answered its final requests.
  onShutdown(logger, [() => tracing.shutdown(), () => sequelize.close(), () => dispatcher.stop(), () => server.close()]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`monolith failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
