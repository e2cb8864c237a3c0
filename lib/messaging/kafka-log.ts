import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../logger';

/**
 * Routes kafkajs's own log entries into our pino logger (JSON on stdout like everything else) instead of its console
 * writer. The level filter stays with kafkajs (`logLevel` in the client config); pino's level applies on top.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }) => {
      // Its timestamp and `logger: "kafkajs"` duplicate pino's own fields; its `message` becomes pino's msg.
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry;
      const obj = { namespace, ...fields };
      // kafkajs logs every error response at ERROR, though it retries them itself ("group coordinator is not
      // available" on a group's first join, leader elections). What survives the retries reaches the caller as a
      // thrown error, so the single response is only a warning.
      const retriedResponse = namespace === 'Connection' && message.startsWith('Response ');
      switch (retriedResponse && level === logLevel.ERROR ? logLevel.WARN : level) {
        case logLevel.ERROR:
        case logLevel.NOTHING:
          log.error(obj, message);
          break;
        case logLevel.WARN:
          log.warn(obj, message);
          break;
        case logLevel.INFO:
          log.info(obj, message);
          break;
        default:
          log.debug(obj, message);
      }
    };
}
