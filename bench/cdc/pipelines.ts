import { DEFAULT_PLAN_PATH, loadPlan } from '../../control/plan';
import { topicFor } from '../../migrations/cdc/events/envelope';
import { pipelinesFor, type PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import type { ShopDatabases } from './databases';

/** The context the CDC rows move: monolith `users` → service `users`, `name` renamed to `full_name` by the plan. */
export const CONTEXT = 'users';

/**
 * What each pipeline of the suite is for. Each has its own slot, publication, topics and consumer group, so they
 * can drain the same WAL one after another and a re-run never reads an earlier run's topics.
 */
export type PipelineRole = 'snapshot' | 'events_snapshot' | 'scale_snapshot' | 'source' | 'e2e' | 'profiled_snapshot';

/**
 * The shop plan's forward pipeline of `users`, exactly as the CDC worker derives it (mapping included), with names
 * made unique for this run and role. `<context>-forward` stays the name's shape: the loop guard pairs pipelines by it.
 */
export function benchPipeline(serverUrl: string, dbs: ShopDatabases, tag: string, role: PipelineRole): PipelineDefinition {
  const plan = loadPlan(DEFAULT_PLAN_PATH, { ...process.env, MONOLITH_DATABASE: dbs.monolith.name, USERS_DATABASE: dbs.service.name });
  const { forward } = pipelinesFor(plan, CONTEXT, serverUrl);
  const id = `${role}_${tag}`;
  const target = role === 'profiled_snapshot' ? { databaseUrl: dbs.profiledService.url, database: dbs.profiledService.name } : forward.target;
  return {
    ...forward,
    // The plan's bulk load, except where the row is about events: the Kafka snapshot path, and the source alone.
    snapshot: role === 'events_snapshot' || role === 'source' ? 'events' : forward.snapshot,
    target,
    name: forward.name.replace(/-forward$/, `_${id}-forward`),
    topicPrefix: `${forward.topicPrefix}_bench_${id}`,
    slot: `${forward.slot}_${id}`,
    publication: `${forward.publication}_${id}`,
    consumerGroup: `${forward.consumerGroup}-${id}`,
    deadLetterTopic: `${forward.deadLetterTopic}-${id}`,
  };
}

/** Every topic a pipeline may have created: its tables' and its dead-letter topic. */
export function pipelineTopics(d: PipelineDefinition): string[] {
  return [...d.source.tables.map((t) => topicFor(d.topicPrefix, 'public', t)), d.deadLetterTopic];
}
