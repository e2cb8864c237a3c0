import type { Side } from '../../../control/contracts';
import type { ConflictPolicy } from '../../../control/plan';
import type { ChangeEvent, Row } from '../events/envelope';
import type { ContextMapping, RowsMapping, TableInfo } from '../mapping';
import type { Direction } from '../pipeline/definition';

/** What applying one change needs: the pipeline's name, its mapping and the target tables' catalog. */
export interface ApplyContext {
  pipeline: string;
  mapping: ContextMapping;
  /** Target tables by name. */
  tables: Map<string, TableInfo>;
  /**
   * Monolith columns (`table.column`) the target has no column for, neither dropped nor renamed by the plan: a
   * column the monolith added while the pipeline ran. Left out of the rows, and reported in status.
   */
  unmappedColumns: Set<string>;
  direction: Direction;
  /**
   * Per source table, its columns as its last applied change had them (kept in `strangler_cdc.source_columns`): a
   * carried column missing from a later change was dropped or renamed at the source.
   */
  sourceColumns: Map<string, string[]>;
  /** The side that takes the context's writes in its current stage (the `stageOwnerWins` policy asks it). */
  stageOwner: () => Side;
}

export interface Change {
  event: ChangeEvent;
  /** The Kafka key: the source row's primary key; null for a truncate. */
  key: Row | null;
  /** The source table's columns as the change's `after` has them (unreadable TOAST values included); null without one. */
  columns?: string[] | null;
}

/**
 * Both sides wrote the same conflict unit (a row, or the parent row of an embedded array) between two syncs: the
 * target's own application wrote it (at `currentTs`) after the source committed this change (at `sourceTs`).
 */
export interface Conflict {
  /** The unit's table in the target, and its key. */
  table: string;
  key: Row;
  currentTs: number;
  sourceTs: number;
  policy: ConflictPolicy;
  chosen: Side;
  /** The change's row in the target's columns; null for a delete. */
  incoming: Row | null;
  /** The target's row as it was when the change arrived; null when the target had deleted it. */
  local: Row | null;
}

export type ApplyResult =
  /** Applied; `conflict` when it overrode the target's own later write (the policy chose the change's side). */
  | { status: 'applied'; conflict?: Conflict }
  /** Skipped: the policy kept the target's own version. */
  | { status: 'conflict'; conflict: Conflict }
  | { status: 'ignored'; why: string };

/**
 * The service row a monolith row becomes. A column the monolith gained that the target also has is carried; one the
 * target lacks is left out and reported, so the pipeline goes on instead of dead-lettering every later change.
 */
export function serviceRowOf(ctx: ApplyContext, m: RowsMapping, target: TableInfo, source: Row): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(source)) {
    const to = ctx.mapping.serviceColumn(m, column);
    if (to === null) continue;
    if (target.columns.has(to)) out[to] = value;
    else ctx.unmappedColumns.add(`${m.monolithTable}.${column}`);
  }
  return out;
}

export function targetTable(ctx: ApplyContext, name: string): TableInfo {
  const t = ctx.tables.get(name);
  if (!t) throw new Error(`table ${name} was not loaded from the target catalog`);
  return t;
}
