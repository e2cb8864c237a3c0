import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication';
import type { Logger } from '../../../lib/logger';
import { replicationConfig } from '../pg/connection';
import { ReplicationStreamError, errorText } from '../pg/errors';
import { formatLsn, type Lsn } from '../pg/lsn';
import { TextPgoutputPlugin } from './pgoutput';

export interface ReplicationStreamOptions {
  databaseUrl: string;
  applicationName: string;
  slot: string;
  publication: string;
  /** Handles one message; may wait (backpressure): the library pauses the socket meanwhile. */
  handle: (lsn: string, msg: Pgoutput.Message) => Promise<void>;
  /** The highest LSN whose changes are all in Kafka, or null while nothing is known. */
  deliveredLsn: () => Lsn | null;
  /** Called at most once, when the stream breaks for any reason other than `stop()`. */
  onFailure: (err: Error) => void;
  logger: Logger;
  /** Standby status updates even without a keepalive request, so the server never times us out while we wait. */
  statusIntervalMs?: number;
}

/**
 * One replication connection, streaming from the slot's confirmed position. Acknowledgements are ours alone: the
 * library's automatic acks are off and its keepalive timer disabled (`timeoutSeconds: 0`: with any other value it
 * confirms the last *received* LSN), and we only ever report `deliveredLsn()`.
 */
export class ReplicationStream {
  private readonly service: LogicalReplicationService;
  private failed = false;
  private stopping = false;
  private statusTimer: NodeJS.Timeout | null = null;
  lastAckedLsn: Lsn | null = null;

  constructor(private readonly options: ReplicationStreamOptions) {
    this.service = new LogicalReplicationService(replicationConfig(options.databaseUrl, options.applicationName), {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      // Each message's handler is awaited before the next is read, and the socket is paused while we wait.
      flowControl: { enabled: true },
    });
  }

  /** Resolves once the server accepted START_REPLICATION; rejects if it refused (e.g. the slot is in use). */
  start(): Promise<void> {
    const { service, options } = this;
    service.on('data', async (lsn: string, msg: Pgoutput.Message) => {
      // The library logs a throwing handler and goes on with the next message: after a failure nothing more may be
      // decoded, or a later commit would be acknowledged past the change that failed.
      if (this.failed || this.stopping) return;
      try {
        await options.handle(lsn, msg);
      } catch (err) {
        this.fail(err);
      }
    });
    service.on('heartbeat', (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) this.acknowledge();
    });
    service.on('error', (err: Error) => this.fail(err));

    return new Promise<void>((resolve, reject) => {
      let started = false;
      service.once('start', () => {
        started = true;
        this.acknowledge();
        const every = options.statusIntervalMs ?? 10_000;
        this.statusTimer = setInterval(() => this.acknowledge(), every);
        this.statusTimer.unref();
        resolve();
      });
      // '0/0': the server starts at the slot's confirmed_flush_lsn, which only we ever move.
      service.subscribe(new TextPgoutputPlugin([options.publication]), options.slot, '0/0').then(
        () => {
          if (!started) reject(new ReplicationStreamError('replication ended before it started', { retriable: true }));
          else if (!this.stopping) this.fail(new ReplicationStreamError('the server ended replication', { retriable: true }));
        },
        (err: unknown) => {
          if (!started) reject(new ReplicationStreamError(`could not start replication from slot ${options.slot}: ${errorText(err)}`, { cause: err, retriable: true }));
          else this.fail(err);
        },
      );
    });
  }

  /** Reports `deliveredLsn()` as written, flushed and applied. The library adds 1 to what it is given, hence −1. */
  acknowledge(): void {
    const lsn = this.options.deliveredLsn();
    if (lsn === null || lsn === 0n || this.failed || this.stopping) return;
    void this.service.acknowledge(formatLsn(lsn - 1n)).then(
      (sent) => {
        if (sent && (this.lastAckedLsn === null || lsn > this.lastAckedLsn)) this.lastAckedLsn = lsn;
      },
      (err: unknown) => this.fail(err),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    await this.service.destroy().catch(() => undefined);
  }

  private fail(err: unknown): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    const error = err instanceof Error ? err : new Error(String(err));
    this.options.logger.warn({ err: error }, 'replication stream failed');
    this.options.onFailure(error);
  }
}
