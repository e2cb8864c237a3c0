// Must stay the first import: tracing can only patch pg, http and kafkajs if it starts before they load.
import { tracing } from '../../../lib/telemetry/register';
import { listen } from '../../../lib/http/server';
import { createLogger } from '../../../lib/logger';
import { loadPlan } from '../../../control/plan';
import { exitWithParent, onShutdown } from '../../../lib/process/shutdown';
import { withDatabase } from '../../../lib/db/urls';
import { createWorkerApp } from './app';
import { loadCdcWorkerConfig } from './config';
import { PipelineRegistry } from './registry';
import { CdcWorker } from './worker';

async function main(): Promise<void> {
  const logger = createLogger('cdc');
  const config = loadCdcWorkerConfig();
  const plan = loadPlan(config.STRANGLER_PLAN);
  const registry = await PipelineRegistry.open(config.CDC_DATABASE_URL);
  const worker = new CdcWorker(plan, withDatabase(config.CDC_DATABASE_URL, 'postgres'), config.KAFKA_BROKERS, registry, logger, {
    id: config.CDC_WORKER_ID || undefined,
    leasePollMs: config.CDC_LEASE_POLL_MS,
  });
  const server = await listen(createWorkerApp(worker, registry, logger, { adminToken: config.STRANGLER_ADMIN_TOKEN, allowedHosts: config.CDC_ALLOWED_HOSTS }), config.PORT);
  logger.info({ url: server.url, worker: worker.id }, 'CDC worker listening');
  await worker.resume();
  onShutdown(logger, [() => tracing.shutdown(), () => registry.close(), () => worker.stop(), () => server.close()]);
  exitWithParent(logger);
}

main().catch((err) => {
  console.error(`CDC worker failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
