// Must stay the first import: tracing can only patch express, http and pg if it starts before they load.
import { tracing } from '../../../lib/telemetry/register';
import { createSequelize } from '../../../lib/db/sequelize';
import { migrate } from '../../../lib/db/migrator';
import { listen } from '../../../lib/http/server';
import { createLogger } from '../../../lib/logger';
import { exitWithParent, onShutdown } from '../../../lib/process/shutdown';
import { createUsersService } from './app';
import { workshopFromConfig } from '../../../lib/http/workshop';
import { USERS_BUGS } from './users/users.service';
import { loadConfig } from './config';
import { migrations } from './db/migrations';

async function main(): Promise<void> {
  const logger = createLogger('users');
  const config = loadConfig();
  const sequelize = createSequelize(config.DATABASE_URL, logger);
  await migrate(sequelize, migrations, logger);
  const service = createUsersService({
    sequelize,
    logger,
    orders: { url: config.ORDERS_URL, timeoutMs: config.ORDERS_TIMEOUT_MS },
    internalSecret: config.STRANGLER_INTERNAL_SECRET,
    workshop: workshopFromConfig('users', config, USERS_BUGS),
  });
  const server = await listen(service.app, config.PORT);
  logger.info({ url: server.url, ordersUrl: config.ORDERS_URL }, 'users service listening');
  onShutdown(logger, [() => tracing.shutdown(), () => sequelize.close(), () => server.close()]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`users service failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
