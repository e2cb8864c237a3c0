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

/**
 * A supervised child (started by `strangler up`) runs in its own process group so Ctrl-C reaches only the
 * supervisor, which stops everything in order. If the supervisor dies without that, the child exits by itself.
 */
export function exitWithParent(logger: Logger, parentPid = Number(process.env.STRANGLER_PARENT_PID)): void {
  if (!Number.isInteger(parentPid) || parentPid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      logger.warn({ parentPid }, 'supervisor is gone, exiting');
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000);
  timer.unref();
}
