import type { ChangeEvent, Row } from '../events/envelope';
import type { ContextMapping, RowsMapping, TableInfo } from '../mapping';

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
}

export interface Change {
  event: ChangeEvent;
  /** The Kafka key: the source row's primary key; null for a truncate. */
  key: Row | null;
}

export type ApplyResult =
  | { status: 'applied' }
  /** The target's own application wrote the row later (at `currentTs`): last writer wins, the change is skipped. */
  | { status: 'conflict'; table: string; key: Row; currentTs: number }
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
