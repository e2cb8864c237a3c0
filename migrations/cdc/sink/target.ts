import { MappingConfigError, type ContextMapping, type TableInfo } from '../mapping';
import type { Direction } from '../pipeline/definition';
import type { LocalWriteUnit } from './sink-schema';

/** The tables a sink writes: the service's for a forward pipeline, the monolith's for a reverse one. */
export function targetTables(direction: Direction, mapping: ContextMapping): string[] {
  return direction === 'forward' ? mapping.serviceTables : mapping.monolithTables;
}

const need = (ok: boolean, message: string) => {
  if (!ok) throw new MappingConfigError(message);
};

/** Checks the plan against the target's real schema once, at start, instead of dead-lettering every event. */
export function validateTarget(direction: Direction, mapping: ContextMapping, tables: Map<string, TableInfo>): void {
  for (const serviceTable of mapping.serviceTables) {
    const embeds = mapping.embedsInto(serviceTable);
    if (!embeds.length) continue;
    const parentName = direction === 'forward' ? serviceTable : mapping.rowsForServiceTable(serviceTable)!.monolithTable;
    const parent = tables.get(parentName)!;
    need(parent.primaryKey.length === 1, `${parentName}: an embed needs a parent with a single-column primary key`);
    for (const e of embeds) {
      if (direction === 'forward') {
        need(parent.columns.has(e.column), `${parentName} has no column ${e.column} for the embedded ${e.monolithTable} rows`);
        continue;
      }
      const child = tables.get(e.monolithTable)!;
      for (const column of [e.parentKey, ...(e.orderBy ? [e.orderBy] : []), ...Object.keys(e.fields)]) {
        need(child.columns.has(column), `${e.monolithTable} has no column ${column} (named in its embed mapping)`);
      }
    }
  }
}

/**
 * Where the local-write trigger goes and which row a local write counts against: a target table's own key, except
 * for a monolith child table folded into its parent's array, whose writes count against the parent.
 */
export function localWriteUnits(direction: Direction, mapping: ContextMapping, tables: Map<string, TableInfo>): LocalWriteUnit[] {
  const own = (name: string): LocalWriteUnit => {
    const pk = tables.get(name)!.primaryKey;
    return { table: name, unitTable: name, key: Object.fromEntries(pk.map((c) => [c, c])) };
  };
  if (direction === 'forward') return mapping.serviceTables.map(own);
  const units: LocalWriteUnit[] = [];
  for (const serviceTable of mapping.serviceTables) {
    const parent = mapping.rowsForServiceTable(serviceTable)!.monolithTable;
    units.push(own(parent));
    for (const e of mapping.embedsInto(serviceTable)) {
      units.push({ table: e.monolithTable, unitTable: parent, key: { [tables.get(parent)!.primaryKey[0]]: e.parentKey } });
    }
  }
  return units;
}
