import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../lib/logger';

/** What a worker tells the primary once its facade is listening. */
export const LISTENING = 'strangler.facade.listening';

/**
 * The primary of a facade run as several processes (FACADE_PROCESSES > 1): it serves nothing itself. Each worker is
 * a whole facade listening on the same port with SO_REUSEPORT, so the kernel spreads connections and no process
 * relays another's traffic. The first worker starts alone (it migrates the facade's database), the others once it
 * listens. A worker that dies is started again; SIGTERM/SIGINT stop them all, then the primary.
 */
export function runPrimary(count: number, logger: Logger): void {
  let stopping = false;
  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      const onExit = (code: number | null) => reject(new Error(`facade worker exited during start-up (code ${code})`));
      worker.once('exit', onExit);
      worker.on('message', (msg: unknown) => {
        if (msg !== LISTENING) return;
        worker.off('exit', onExit);
        worker.once('exit', (code, signal) => {
          if (stopping) return;
          logger.error({ pid: worker.process.pid, code, signal }, 'facade worker died; starting another');
          start().catch((err: Error) => logger.error({ err: err.message }, 'facade worker could not be restarted'));
        });
        resolve(worker);
      });
    });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping facade workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) process.exit(0);
    let left = workers.length;
    for (const w of workers) {
      w.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      w.process.kill('SIGTERM');
    }
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  void (async () => {
    try {
      await start();
      await Promise.all(Array.from({ length: count - 1 }, start));
      logger.info({ processes: count }, 'facade listening in every process');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'facade workers failed to start');
      stop('SIGTERM');
      process.exitCode = 1;
    }
  })();
}
