import { withDatabase } from '../../../lib/db/urls';
import type { Plan, TableMapping } from '../../../control/plan';
import { DEFAULT_EVENT_OPTIONS, eventOptionsFrom, type EventOptions } from '../events/options';

export type Direction = 'forward' | 'reverse';

/**
 * One pipeline = one source database → Kafka topics → one sink into the other database. Each context has a
 * forward pipeline (monolith → service, from extraction on) and a reverse one (service → monolith, from canary on).
 * Everything is derived from the plan; no context name is hard-coded.
 */
export interface PipelineDefinition {
  /** `<context>-forward` / `<context>-reverse`. */
  name: string;
  context: string;
  direction: Direction;
  /** Debezium's topic prefix: `monolith` for forward pipelines, the context's name for reverse ones. */
  topicPrefix: string;
  source: { databaseUrl: string; database: string; tables: string[] };
  target: { databaseUrl: string; database: string };
  /** Monolith table → service mapping, from the plan (the reverse sink inverts it). */
  mapping: Record<string, TableMapping>;
  /** Replication slot and publication on the source, and the sink's consumer group. */
  slot: string;
  publication: string;
  consumerGroup: string;
  deadLetterTopic: string;
  /**
   * How the first start copies the existing rows. `bulk`: COPY straight from the exported snapshot into the target
   * (`../snapshot/bulk-load.ts`), no `r` events; a reverse pipeline loads nothing (its sink would skip them). `events`:
   * one Debezium `r` event per row through Kafka, applied by the sink, as Debezium does, for other consumers of the
   * topics. Absent = `events`; the plan's pipelines default to `bulk`.
   */
  snapshot?: SnapshotMode;
  /** Debezium options from the plan's `cdc` (defaults when absent): how the source writes, how the sink reads. */
  events?: EventOptions;
}

export const eventOptionsOf = (definition: PipelineDefinition): EventOptions => ({ ...DEFAULT_EVENT_OPTIONS, ...definition.events });

export type SnapshotMode = 'bulk' | 'events';

/** A plan's `database` is a name on the stack's server or a full URL. */
export function resolveDatabaseUrl(database: string, serverUrl: string): string {
  return /^postgres(ql)?:\/\//.test(database) ? database : withDatabase(serverUrl, database);
}

function databaseName(urlOrName: string): string {
  return /^postgres(ql)?:\/\//.test(urlOrName) ? decodeURIComponent(new URL(urlOrName).pathname.slice(1)) : urlOrName;
}

export function pipelinesFor(plan: Plan, context: string, serverUrl: string): { forward: PipelineDefinition; reverse: PipelineDefinition } {
  const ctx = plan.contexts[context];
  if (!ctx) throw new Error(`unknown context ${context}`);
  const monolith = { databaseUrl: resolveDatabaseUrl(plan.monolith.database, serverUrl), database: databaseName(plan.monolith.database) };
  const service = { databaseUrl: resolveDatabaseUrl(ctx.service.database, serverUrl), database: databaseName(ctx.service.database) };
  const monolithTables = Object.keys(ctx.tables);
  // Reference tables flow one way: the reverse pipeline neither publishes nor maps them.
  const written = Object.fromEntries(Object.entries(ctx.tables).filter(([, m]) => !m.reference));
  const serviceTables = [...new Set(Object.values(written).map((m) => m.table))];
  const base = (direction: Direction) => {
    const name = `${context}-${direction}`;
    const id = `strangler_${context}_${direction}`;
    return {
      name,
      context,
      direction,
      slot: id,
      publication: id,
      consumerGroup: `strangler-${name}-sink`,
      deadLetterTopic: `strangler.dlq.${name}`,
      events: eventOptionsFrom(ctx.cdc, direction),
      snapshot: ctx.snapshot,
    };
  };
  return {
    forward: { ...base('forward'), mapping: ctx.tables, topicPrefix: plan.monolith.topicPrefix, source: { ...monolith, tables: monolithTables }, target: service },
    reverse: { ...base('reverse'), mapping: written, topicPrefix: context, source: { ...service, tables: serviceTables }, target: monolith },
  };
}

/**
 * The service tables the write guard watches: with `shadow.writes: dryRun` every captured table (in shadow), and
 * reference tables always. A service table is reference data only if every mapping into it says so.
 */
export function guardedTables(plan: Plan, context: string): { table: string; reference: boolean }[] {
  const ctx = plan.contexts[context];
  if (!ctx) throw new Error(`unknown context ${context}`);
  const reference = new Map<string, boolean>();
  for (const m of Object.values(ctx.tables)) reference.set(m.table, (reference.get(m.table) ?? true) && m.reference === true);
  return [...reference]
    .filter(([, ref]) => ref || ctx.shadow.writes === 'dryRun')
    .map(([table, ref]) => ({ table, reference: ref }));
}
