import type { ConflictPolicy, TableMapping } from '../../../control/plan';
import type { Row } from '../events/envelope';
import { MappingConfigError, RowMappingError } from './errors';

/** A monolith table whose rows become rows of a service table (renamed columns, dropped columns). */
export interface RowsMapping {
  kind: 'rows';
  monolithTable: string;
  serviceTable: string;
  /** monolith column → service column, only for renamed ones. */
  columns: Record<string, string>;
  drop: string[];
  /** How a conflict on its rows (and on the arrays embedded in them) is settled. */
  conflict: ConflictPolicy;
}

/** A monolith child table folded into a jsonb array column of its parent's service table (order_items → orders.items). */
export interface EmbedMapping {
  kind: 'embed';
  monolithTable: string;
  serviceTable: string;
  /** The service table's jsonb array column. */
  column: string;
  /** The child's column holding the parent's primary key (order_items.order_id). */
  parentKey: string;
  /** The child's column that orders the array; its value is the element's index (0-based) on the way back. */
  orderBy?: string;
  /** child column → element field; the element holds exactly these fields. */
  fields: Record<string, string>;
}

export type TableMap = RowsMapping | EmbedMapping;

/** What a service row becomes in the monolith: the parent row and, per embed, the child rows in array order. */
export interface MonolithRows {
  table: string;
  row: Row;
  children: { mapping: EmbedMapping; rows: Row[] }[];
}

const invert = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k]));

/**
 * The plan's `tables` of one context, both ways. Forward = monolith row → service row (or array element); reverse =
 * service row → monolith rows. Pure: values pass through untouched (see values.ts for the database types).
 */
export class ContextMapping {
  private readonly byMonolith = new Map<string, TableMap>();
  private readonly rowsByService = new Map<string, RowsMapping>();
  private readonly embedsByService = new Map<string, EmbedMapping[]>();
  private readonly inverseColumns = new Map<string, Record<string, string>>();

  constructor(tables: Record<string, TableMapping>) {
    for (const [monolithTable, t] of Object.entries(tables)) {
      if (t.embed) {
        const embed: EmbedMapping = {
          kind: 'embed',
          monolithTable,
          serviceTable: t.table,
          column: t.embed.column,
          parentKey: t.embed.parentKey,
          orderBy: t.embed.orderBy,
          fields: { ...t.embed.fields },
        };
        if (!Object.keys(embed.fields).length) throw new MappingConfigError(`tables.${monolithTable}.embed.fields: list the child columns the array elements keep`);
        if (t.conflict) throw new MappingConfigError(`tables.${monolithTable}.conflict: an embedded table's rows conflict as part of their parent's row; set conflict on the parent's table`);
        this.byMonolith.set(monolithTable, embed);
        this.embedsByService.set(t.table, [...(this.embedsByService.get(t.table) ?? []), embed]);
        continue;
      }
      const rows: RowsMapping = { kind: 'rows', monolithTable, serviceTable: t.table, columns: { ...t.columns }, drop: [...t.drop], conflict: t.conflict ?? 'lastWriterWins' };
      const other = this.rowsByService.get(t.table);
      if (other) throw new MappingConfigError(`tables.${monolithTable}: service table ${t.table} already receives the rows of ${other.monolithTable}`);
      const targets = Object.values(rows.columns);
      if (new Set(targets).size !== targets.length) throw new MappingConfigError(`tables.${monolithTable}.columns: two columns renamed to the same name`);
      this.byMonolith.set(monolithTable, rows);
      this.rowsByService.set(t.table, rows);
      this.inverseColumns.set(t.table, invert(rows.columns));
    }
    for (const [serviceTable, embeds] of this.embedsByService) {
      const parent = this.rowsByService.get(serviceTable);
      if (!parent) {
        throw new MappingConfigError(`tables.${embeds[0].monolithTable}.embed: no table maps its rows to ${serviceTable}, so there is no parent to embed into`);
      }
      const columns = embeds.map((e) => e.column);
      if (new Set(columns).size !== columns.length) throw new MappingConfigError(`two embeds write ${serviceTable}.${columns[0]}`);
    }
  }

  get monolithTables(): string[] {
    return [...this.byMonolith.keys()];
  }

  get serviceTables(): string[] {
    return [...this.rowsByService.keys()];
  }

  /** The mapping of a monolith table, or undefined when the plan does not sync it. */
  forMonolithTable(table: string): TableMap | undefined {
    return this.byMonolith.get(table);
  }

  /** The monolith table whose rows a service table holds. */
  rowsForServiceTable(table: string): RowsMapping | undefined {
    return this.rowsByService.get(table);
  }

  embedsInto(serviceTable: string): EmbedMapping[] {
    return this.embedsByService.get(serviceTable) ?? [];
  }

  // ---- forward: monolith → service ----

  /** The service column a monolith column lands in, or null when the plan drops it. */
  serviceColumn(m: RowsMapping, monolithColumn: string): string | null {
    if (m.drop.includes(monolithColumn)) return null;
    return m.columns[monolithColumn] ?? monolithColumn;
  }

  toServiceRow(m: RowsMapping, row: Row): Row {
    const out: Row = {};
    for (const [column, value] of Object.entries(row)) {
      const target = this.serviceColumn(m, column);
      if (target !== null) out[target] = value;
    }
    return out;
  }

  /** One child row as the array element the service keeps. */
  toElement(m: EmbedMapping, child: Row): Row {
    const element: Row = {};
    for (const [column, field] of Object.entries(m.fields)) {
      if (!(column in child)) throw new RowMappingError(m.monolithTable, `row has no column ${column} (listed in embed.fields)`);
      element[field] = child[column];
    }
    return element;
  }

  /** A parent row and its children (any order) as the service row: what reconcile expects and a snapshot produces. */
  toServiceAggregate(m: RowsMapping, parent: Row, children: Record<string, Row[]> = {}): Row {
    const out = this.toServiceRow(m, parent);
    for (const embed of this.embedsInto(m.serviceTable)) {
      const rows = [...(children[embed.monolithTable] ?? [])];
      if (embed.orderBy) {
        const by = embed.orderBy;
        rows.sort((a, b) => compareValues(a[by], b[by]));
      }
      out[embed.column] = rows.map((r) => this.toElement(embed, r));
    }
    return out;
  }

  // ---- reverse: service → monolith ----

  /** The monolith column a service column comes from, or null for the service's own columns (embeds). */
  monolithColumn(m: RowsMapping, serviceColumn: string): string | null {
    if (this.embedsInto(m.serviceTable).some((e) => e.column === serviceColumn)) return null;
    return this.inverseColumns.get(m.serviceTable)?.[serviceColumn] ?? serviceColumn;
  }

  /**
   * A service row as monolith rows. `keep` filters the parent's columns (the sink passes the monolith table's real
   * columns, so columns the service added on its own, like an event id, stay behind).
   */
  toMonolithRows(serviceTable: string, row: Row, keep: (column: string) => boolean = () => true): MonolithRows {
    const m = this.rowsByService.get(serviceTable);
    if (!m) throw new RowMappingError(serviceTable, 'no monolith table maps to this service table');
    const parent: Row = {};
    for (const [column, value] of Object.entries(row)) {
      const source = this.monolithColumn(m, column);
      if (source !== null && keep(source)) parent[source] = value;
    }
    const children = this.embedsInto(serviceTable).map((embed) => ({ mapping: embed, rows: this.elementsToChildRows(embed, row[embed.column]) }));
    return { table: m.monolithTable, row: parent, children };
  }

  /**
   * Array elements as child rows without their parent key or own primary key (the sink sets both): the fields
   * mapped back, and `orderBy` = the element's index.
   */
  elementsToChildRows(m: EmbedMapping, value: unknown): Row[] {
    const elements = parseArray(m, value);
    const fromField = invert(m.fields);
    return elements.map((element, index) => {
      if (element === null || typeof element !== 'object' || Array.isArray(element)) {
        throw new RowMappingError(m.serviceTable, `${m.column}[${index}] is not an object`);
      }
      const child: Row = {};
      for (const [field, column] of Object.entries(fromField)) child[column] = (element as Row)[field] ?? null;
      if (m.orderBy) child[m.orderBy] = index;
      return child;
    });
  }
}

/** Debezium sends json/jsonb as JSON text; a consumer may also hand us the parsed array. */
function parseArray(m: EmbedMapping, value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new RowMappingError(m.serviceTable, `${m.column} is not valid JSON`);
    }
  }
  if (!Array.isArray(parsed)) throw new RowMappingError(m.serviceTable, `${m.column} is not a JSON array`);
  return parsed;
}

/** Numbers numerically (numeric arrives as a string), everything else as text. */
export function compareValues(a: unknown, b: unknown): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== null && b !== null && a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}
