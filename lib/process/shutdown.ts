import type { Logger } from '../logger';

type Closer = () => Promise<void> | void;

/**
 * Runs closers in reverse order of registration on SIGINT/SIGTERM, once. A second signal forces exit so a stuck
 * closer never traps the operator.
 */
export function onShutdown(logger: Logger, closers: Closer[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const close of [...closers].reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'error while shutting down');
      }
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
