import type { ChangeEvent, Row } from '../events/envelope';
import type { ContextMapping, TableInfo } from '../mapping';

/** What applying one change needs: the pipeline's name, its mapping and the target tables' catalog. */
export interface ApplyContext {
  pipeline: string;
  mapping: ContextMapping;
  /** Target tables by name. */
  tables: Map<string, TableInfo>;
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

export function targetTable(ctx: ApplyContext, name: string): TableInfo {
  const t = ctx.tables.get(name);
  if (!t) throw new Error(`table ${name} was not loaded from the target catalog`);
  return t;
}
