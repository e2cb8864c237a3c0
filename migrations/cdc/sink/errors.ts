import { ToolkitError } from '../../../lib/errors';
import { RowMappingError } from '../mapping';

export type PoisonReason = 'unparseable' | 'invalid_envelope' | 'unknown_table' | 'unmappable' | 'rejected_by_target';

/** An event that will never apply, however often it is retried: it goes to the dead-letter topic. */
export class PoisonEventError extends Error {
  constructor(
    readonly reason: PoisonReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PoisonEventError';
  }
}

/**
 * The source's schema changed in a way the target cannot follow: a carried column is gone from the changes (dropped
 * or renamed), or a value no longer fits the target column's type. Not poison: every later change of the table would
 * fail the same way, so the pipeline stops before the change and applies nothing after it until the plan or the
 * target is changed and the pipeline restarted.
 */
export class SchemaChangeError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    message: string,
  ) {
    super(message);
    this.name = 'SchemaChangeError';
  }
}

/** SQLSTATEs of a value that does not fit its column: too long for a varchar(n)/char(n), out of an integer's range. */
const MISFIT_CODES = new Set(['22001', '22003']);

export function isMisfit(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && MISFIT_CODES.has(code);
}

/** The sink was used out of order (started twice, started after stop). */
export class SinkStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SinkStateError';
  }
}

/** The target stayed unreachable for a whole retry round; the consumer redelivers the batch and we try again. */
export class SinkUnavailableError extends ToolkitError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** `stop()` was called while a batch waited for the target. */
export class SinkStoppedError extends Error {
  constructor() {
    super('sink stopped');
    this.name = 'SinkStoppedError';
  }
}

/**
 * SQLSTATE classes an event's own content causes: bad data (22), a violated constraint (23), an unknown column or a
 * type mismatch (42, except 42501 insufficient privilege, which an operator fixes). Foreign keys (23503) cannot
 * fire: sink transactions run with session_replication_role = replica.
 */
const POISON_CLASSES = new Set(['22', '23', '42', '44']);

/**
 * Everything else is treated as transient and retried: a connection refused or cut, a database not accepting
 * connections, a shutdown, a deadlock, missing privileges. Retrying what might be poison only delays; dead-lettering
 * what might be transient would lose data.
 */
export function isPoison(err: unknown): boolean {
  if (err instanceof PoisonEventError || err instanceof RowMappingError) return true;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return code !== '42501' && POISON_CLASSES.has(code.slice(0, 2));
}

/** Errors after which the pooled connection must not be reused. */
export function isConnectionBroken(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^(08|57P)/.test(code)) return true;
  if (typeof code === 'string' && code.startsWith('E')) return true; // ECONNRESET, EPIPE…
  return /terminat|connection|not queryable/i.test(err instanceof Error ? err.message : String(err));
}

/** `{name}: {message}` plus the SQLSTATE, for logs and dead-letter headers. */
export function describeError(err: unknown): { className: string; message: string; code?: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (err as { code?: unknown })?.code ?? (e.cause as { code?: unknown } | undefined)?.code;
  return { className: e.name, message: e.message, code: typeof code === 'string' ? code : undefined };
}

/** Any error `isPoison` accepts, as the PoisonEventError the dead-letter headers describe. */
export function asPoison(err: unknown): PoisonEventError {
  if (err instanceof PoisonEventError) return err;
  if (err instanceof RowMappingError) return new PoisonEventError('unmappable', err.message, { cause: err });
  const { message, code } = describeError(err);
  return new PoisonEventError('rejected_by_target', code ? `${code} ${message}` : message, { cause: err });
}
