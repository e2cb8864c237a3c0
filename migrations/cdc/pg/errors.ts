import { ToolkitError } from '../../../lib/errors';

/** Errors of the CDC source. `retriable` says whether starting again later may succeed (server restarting, slot busy). */
export class CdcSourceError extends ToolkitError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    // Not retriable unless said so: a cause from a client library is no promise that starting again helps.
    super(message, { ...options, retriable: options.retriable ?? false });
  }
}

/** The source database is not fit for capture (wal_level, privileges, a table missing, a foreign slot). */
export class SourceSetupError extends CdcSourceError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.name = 'SourceSetupError';
  }
}

/** Another process still holds the replication slot (a previous run not yet gone, or a second copy running). */
export class SlotBusyError extends CdcSourceError {
  constructor(
    readonly slot: string,
    readonly pid: number | null,
  ) {
    super(`replication slot ${slot} is in use by backend ${pid ?? '?'}; is another source for this pipeline running?`, { retriable: true });
    this.name = 'SlotBusyError';
  }
}

export class SnapshotError extends CdcSourceError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.name = 'SnapshotError';
  }
}

/** The replication stream broke or sent something we cannot turn into events. */
export class ReplicationStreamError extends CdcSourceError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.name = 'ReplicationStreamError';
  }
}

export { errorMessage as errorText } from '../../../lib/errors';
