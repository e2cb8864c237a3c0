import { withDatabase } from '../../../lib/db/urls';
import type { Plan, TableMapping } from '../../../lib/plan';

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
}

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
  const serviceTables = [...new Set(Object.values(ctx.tables).map((m) => m.table))];
  const base = (direction: Direction) => {
    const name = `${context}-${direction}`;
    const id = `strangler_${context}_${direction}`;
    return {
      name,
      context,
      direction,
      mapping: ctx.tables,
      slot: id,
      publication: id,
      consumerGroup: `strangler-${name}-sink`,
      deadLetterTopic: `strangler.dlq.${name}`,
      snapshot: ctx.snapshot,
    };
  };
  return {
    forward: { ...base('forward'), topicPrefix: 'monolith', source: { ...monolith, tables: monolithTables }, target: service },
    reverse: { ...base('reverse'), topicPrefix: context, source: { ...service, tables: serviceTables }, target: monolith },
  };
}
