import type { Logger } from '../../../../lib/logger';
import type { NotificationsService } from './notifications.service';

/**
 * Sends queued notifications in the background, as the monolith's dispatcher does. The "email" is a log line; what
 * matters is the state change queued → sent that users of the API observe.
 */
export function startDispatcher(notifications: NotificationsService, logger: Logger, intervalMs = 500): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      for (;;) {
        const sent = await notifications.dispatchBatch();
        for (const n of sent) logger.info({ notificationId: n.id, userId: n.userId, kind: n.kind }, 'email sent');
        if (sent.length < 100 || stopped) break;
      }
    } catch (err) {
      logger.warn({ err }, 'notification dispatch failed; retrying');
    }
  };
  const timer = setInterval(() => {
    if (!running) running = tick().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
