import cluster from 'node:cluster';
import { tracing } from './telemetry';
import { createLogger } from '../../lib/logger';
import { exitWithParent, onShutdown } from '../../lib/process/shutdown';
import { loadFacadeConfig } from './config';
import { LISTENING, runPrimary } from './processes';
import { startFacade } from './server';

async function main(): Promise<void> {
  const logger = createLogger('facade');
  const config = loadFacadeConfig();
  if (config.FACADE_PROCESSES > 1 && config.PORT === 0) throw new Error('facade configuration: FACADE_PROCESSES > 1 needs a fixed PORT (each process would take its own with 0)');
  if (config.FACADE_PROCESSES > 1 && cluster.isPrimary) {
    runPrimary(config.FACADE_PROCESSES, logger);
    exitWithParent(logger);
    return;
  }
  const facade = await startFacade(config, logger);
  logger.info({ url: facade.server.url, pid: process.pid }, 'facade listening');
  if (cluster.isWorker) process.send?.(LISTENING);
  onShutdown(logger, [() => tracing.shutdown(), () => facade.stop()]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`facade failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
