import type { PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import type { SinkStatus } from '../../migrations/cdc/sink';
import type { SourceStatus } from '../../migrations/cdc/source';

/**
 * Which halves of a pipeline the host runs: the source alone (the `source` row), both, as the CDC worker does, or
 * the sink alone (to try a sink in a process of its own next to a source-only host).
 */
export type PipelineParts = 'source' | 'sink' | 'source+sink';

export type HostRequest =
  | { id: number; op: 'start'; definition: PipelineDefinition; parts: PipelineParts }
  | { id: number; op: 'status'; name: string }
  | { id: number; op: 'stop'; name: string };

export interface PipelineStatus {
  source: SourceStatus | null;
  sink: SinkStatus | null;
}

export type HostReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Sent once, unprompted, when the host has loaded its modules and takes requests. */
export const HOST_READY = 'ready';
