import type { ContextMapping, RowsMapping, TableInfo } from '../cdc/mapping';
import { quoteIdent } from '../cdc/mapping';
import { ReconcileError } from './errors';

/**
 * One side of a comparison as SQL: a relation with the key columns (k0, k1…) and `row`, the row in the service's
 * shape as jsonb. Both sides build the very same jsonb for equal data: service column names, embedded children as the
 * array the service keeps, values through to_jsonb (timestamptz in UTC, set per session). jsonb's text form is
 * canonical, so its md5 compares rows across databases.
 */
export interface MappedSide {
  table: string;
  /** `SELECT k0…, row FROM …`, to wrap as a subquery. */
  relation: string;
  keyCount: number;
  /** Service column names of the key, in order. */
  keyNames: string[];
}

/** jsonb_build_object takes at most 100 arguments: wide rows are built in parts and concatenated. */
function jsonObject(pairs: [string, string][]): string {
  if (!pairs.length) return `'{}'::jsonb`;
  const parts: string[] = [];
  for (let i = 0; i < pairs.length; i += 40) {
    const args = pairs.slice(i, i + 40).flatMap(([name, expr]) => [`'${name.replace(/'/g, "''")}'`, expr]);
    parts.push(`jsonb_build_object(${args.join(', ')})`);
  }
  return parts.join(' || ');
}

/** The columns compared: the monolith's, renamed and without dropped ones, plus the embedded arrays. */
export function comparedColumns(mapping: ContextMapping, m: RowsMapping, monolith: TableInfo, service: TableInfo): { monolith: string; service: string }[] {
  const out: { monolith: string; service: string }[] = [];
  for (const column of monolith.columns.keys()) {
    const target = mapping.serviceColumn(m, column);
    if (target === null) continue;
    if (!service.columns.has(target)) {
      throw new ReconcileError(`${service.name} has no column ${target} (from ${monolith.name}.${column}); rename or drop it in the plan`);
    }
    out.push({ monolith: column, service: target });
  }
  return out;
}

export function monolithSide(
  mapping: ContextMapping,
  m: RowsMapping,
  tables: Map<string, TableInfo>,
  service: TableInfo,
): MappedSide {
  const parent = tables.get(m.monolithTable)!;
  const columns = comparedColumns(mapping, m, parent, service);
  const pairs: [string, string][] = columns.map((c) => [c.service, `t.${quoteIdent(c.monolith)}`]);
  for (const embed of mapping.embedsInto(m.serviceTable)) {
    const child = tables.get(embed.monolithTable)!;
    if (parent.primaryKey.length !== 1) throw new ReconcileError(`${parent.name}: an embed needs a single-column primary key`);
    const element = jsonObject(Object.entries(embed.fields).map(([column, field]) => [field, `c.${quoteIdent(column)}`]));
    const order = [...(embed.orderBy ? [embed.orderBy] : []), ...child.primaryKey].map((c) => `c.${quoteIdent(c)}`).join(', ');
    pairs.push([
      embed.column,
      `COALESCE((SELECT jsonb_agg(${element} ORDER BY ${order}) FROM public.${quoteIdent(child.name)} c
         WHERE c.${quoteIdent(embed.parentKey)} = t.${quoteIdent(parent.primaryKey[0])}), '[]'::jsonb)`,
    ]);
  }
  const keyNames = parent.primaryKey.map((c) => {
    const name = mapping.serviceColumn(m, c);
    if (name === null) throw new ReconcileError(`${parent.name}: the plan drops primary-key column ${c}`);
    return name;
  });
  return {
    table: parent.name,
    relation: `SELECT ${parent.primaryKey.map((c, i) => `t.${quoteIdent(c)} AS k${i}`).join(', ')}, ${jsonObject(pairs)} AS row FROM public.${quoteIdent(parent.name)} t`,
    keyCount: parent.primaryKey.length,
    keyNames,
  };
}

export function serviceSide(mapping: ContextMapping, m: RowsMapping, monolith: TableInfo, service: TableInfo, keyNames: string[]): MappedSide {
  const columns = comparedColumns(mapping, m, monolith, service).map((c) => c.service);
  const embeds = mapping.embedsInto(m.serviceTable).map((e) => e.column);
  for (const column of embeds) if (!service.columns.has(column)) throw new ReconcileError(`${service.name} has no column ${column} for its embedded rows`);
  const pairs: [string, string][] = [...columns, ...embeds].map((c) => [c, `t.${quoteIdent(c)}`]);
  for (const k of keyNames) if (!service.columns.has(k)) throw new ReconcileError(`${service.name} has no key column ${k}`);
  return {
    table: service.name,
    relation: `SELECT ${keyNames.map((c, i) => `t.${quoteIdent(c)} AS k${i}`).join(', ')}, ${jsonObject(pairs)} AS row FROM public.${quoteIdent(service.name)} t`,
    keyCount: keyNames.length,
    keyNames,
  };
}
