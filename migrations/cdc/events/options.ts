import type { CdcOptions } from '../../../control/plan';
import type { Op } from './envelope';

export type DecimalMode = 'precise' | 'string' | 'double';
export type TimePrecisionMode = 'adaptive' | 'connect';

/** How a column value is written: what a consumer (our sink included) must know to read one back. */
export interface ValueFormat {
  decimal: DecimalMode;
  time: TimePrecisionMode;
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
}

export const DEFAULT_EVENT_OPTIONS: EventOptions = {
  decimal: 'precise',
  time: 'adaptive',
  skipped: ['t'],
  tombstones: true,
  transactionMetadata: false,
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
    skipped: skippedOps(o['skipped.operations']),
    tombstones: o['tombstones.on.delete'] ?? d.tombstones,
    transactionMetadata: o['provide.transaction.metadata'] ?? d.transactionMetadata,
  };
}
