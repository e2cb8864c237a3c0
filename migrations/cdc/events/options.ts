import type { CdcOptions } from '../../../control/plan';
import type { Op } from './envelope';

export type DecimalMode = 'precise' | 'string' | 'double';
export type TimePrecisionMode = 'adaptive' | 'adaptive_time_microseconds' | 'connect';
export type BinaryMode = 'bytes' | 'base64' | 'base64-url-safe' | 'hex';

/** How a column value is written: what a consumer (our sink included) must know to read one back. */
export interface ValueFormat {
  decimal: DecimalMode;
  time: TimePrecisionMode;
  /** `binary.handling.mode` for bytea (bytes and base64 both write base64 in JSON; their schemas differ). */
  binary: BinaryMode;
}

/**
 * The Debezium connector options a pipeline honours (plan: `contexts.<name>.cdc`, Debezium's names), resolved
 * with Debezium 3.6's defaults.
 */
export interface EventOptions extends ValueFormat {
  /**
   * `skipped.operations`: Debezium skips truncates (`t`) unless told otherwise. A list, not a Set: a pipeline's
   * definition crosses process boundaries as JSON (the bench's and the fault suite's child processes).
   */
  skipped: readonly Op[];
  /** `tombstones.on.delete`. */
  tombstones: boolean;
  /** `provide.transaction.metadata`: BEGIN/END events on `<prefix>.transaction` and each event's `transaction`. */
  transactionMetadata: boolean;
  /** `key.converter.schemas.enable` / `value.converter.schemas.enable`: records as `{schema, payload}`. */
  keySchemas: boolean;
  valueSchemas: boolean;
  /**
   * `message.prefix.include.list`: logical-decoding messages with these prefixes (regular expressions) become
   * `<prefix>.message` events. Empty by default, where Debezium takes every prefix; ours never.
   */
  messagePrefixes: readonly string[];
}

export const DEFAULT_EVENT_OPTIONS: EventOptions = {
  decimal: 'precise',
  time: 'adaptive',
  binary: 'bytes',
  skipped: ['t'],
  tombstones: true,
  transactionMetadata: false,
  keySchemas: false,
  valueSchemas: false,
  messagePrefixes: [],
};

function skippedOps(text: string | undefined): readonly Op[] {
  if (text === undefined) return DEFAULT_EVENT_OPTIONS.skipped;
  if (text === 'none') return [];
  return [...new Set(text.split(',') as Op[])];
}

/** A pipeline's options: the context's, overridden by its direction's (both already validated by the plan schema). */
export function eventOptionsFrom(cdc: (CdcOptions & { forward?: CdcOptions; reverse?: CdcOptions }) | undefined, direction: 'forward' | 'reverse'): EventOptions {
  const o: CdcOptions = { ...cdc, ...cdc?.[direction] };
  const d = DEFAULT_EVENT_OPTIONS;
  return {
    decimal: o['decimal.handling.mode'] ?? d.decimal,
    time: o['time.precision.mode'] ?? d.time,
    binary: o['binary.handling.mode'] ?? d.binary,
    skipped: skippedOps(o['skipped.operations']),
    tombstones: o['tombstones.on.delete'] ?? d.tombstones,
    transactionMetadata: o['provide.transaction.metadata'] ?? d.transactionMetadata,
    keySchemas: o['key.converter.schemas.enable'] ?? d.keySchemas,
    valueSchemas: o['value.converter.schemas.enable'] ?? d.valueSchemas,
    messagePrefixes: o['message.prefix.include.list']?.split(',') ?? d.messagePrefixes,
  };
}
