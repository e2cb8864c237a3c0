import { tracing } from './telemetry';
import { createLogger } from '../../lib/logger';
import { exitWithParent, onShutdown } from '../../lib/process/shutdown';
import { loadFacadeConfig } from './config';
import { startFacade } from './server';

async function main(): Promise<void> {
  const logger = createLogger('facade');
  const config = loadFacadeConfig();
  const facade = await startFacade(config, logger);
  logger.info({ url: facade.server.url }, 'facade listening');
  onShutdown(logger, [() => tracing.shutdown(), () => facade.stop()]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`facade failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
