import type { Logger } from '../../../lib/logger';
import type { Queryable } from './catalog';
import { errorText } from './errors';

/**
 * Prefix of the non-transactional messages that let an idle source acknowledge WAL (see README). Named for the
 * toolkit: a real Debezium connector on the same database turns every logical message into a `<prefix>.message`
 * event, and this says whose they are.
 */
export const HEARTBEAT_PREFIX = 'strangler_cdc.heartbeat';

/** The prefix releases before 3.6-format events used; a message already in the WAL at an upgrade still counts. */
const LEGACY_HEARTBEAT_PREFIX = 'strangler.heartbeat';

export const isHeartbeatPrefix = (prefix: string) => prefix === HEARTBEAT_PREFIX || prefix === LEGACY_HEARTBEAT_PREFIX;

/**
 * Writes a tiny logical message on the source database every few seconds. Without it a slot whose tables see no
 * change never gets a new LSN to confirm, so it pins WAL that other databases and tables keep writing. The source
 * confirms the message's LSN once everything received before it is in Kafka.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private beating = false;
  /** Until the server says it cannot (before Postgres 16, or a role without the right): see beat(). */
  private logSnapshots = true;

  constructor(
    private readonly db: Queryable,
    private readonly pipeline: string,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      // A confirmed LSN frees WAL only up to the last running-transactions record before it, which Postgres writes
      // on its own every 15 s: while other databases write fast, that alone keeps 15 s of their WAL. Writing one
      // just before the message lets the slot release nearly everything the message confirms.
      if (this.logSnapshots) {
        await this.db.query('SELECT pg_log_standby_snapshot()').catch((err: unknown) => {
          this.logSnapshots = false;
          this.logger.info({ err: errorText(err) }, 'heartbeat without pg_log_standby_snapshot (Postgres 16+, superuser or an explicit GRANT): the slot frees WAL at Postgres\'s own 15 s pace');
        });
      }
      await this.db.query('SELECT pg_logical_emit_message(false, $1, $2)', [HEARTBEAT_PREFIX, this.pipeline]);
    } catch (err) {
      // The replication stream reports a database that is really gone; a missed beat only delays an acknowledgement.
      this.logger.warn({ err: errorText(err) }, 'heartbeat failed');
    } finally {
      this.beating = false;
    }
  }
}
