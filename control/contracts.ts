/**
 * Every shape that crosses a process boundary between the CLI, the facade (admin API, dashboard) and the CDC
 * worker, written once. A field renamed here is renamed for every side at compile time; the JSON names are a
 * contract with scripts and people, so they change only on purpose (and in README.md with them).
 */
import type { Stage } from './plan/stages';
import type { ConflictPolicy } from './plan/schema';

export type { Stage } from './plan/stages';

// ---- pipelines (CDC worker: GET /pipelines) ---------------------------------------------------------------------

/** A pipeline's state, the worse of its source and sink; gates pass only on `streaming`. */
export const PIPELINE_STATES = ['snapshotting', 'streaming', 'retrying', 'stopped', 'error'] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

export type Direction = 'forward' | 'reverse';

export interface PipelineStatus {
  name: string;
  context: string;
  direction: Direction;
  state: PipelineState;
  lagMs: number | null;
  lagBytes: number | null;
  /** The id of the CDC worker that runs it now (it holds the pipeline's lease); null while none does (a takeover). */
  worker?: string | null;
  /** The worker adds its source's and sink's own details; readers here need only the fields above. */
  [key: string]: unknown;
}

/** One CDC worker alive now (its lease session open in the toolkit's database): `GET /pipelines`' `workers`. */
export interface CdcWorkerStatus {
  /** `CDC_WORKER_ID`, or host name and process id. */
  id: string;
  /** `active` while it runs at least one pipeline; a `standby` takes over the pipelines of a worker that dies. */
  role: 'active' | 'standby';
  pipelines: string[];
  startedAt: string;
  /** Its last poll of the leases (every `CDC_LEASE_POLL_MS`). */
  seenAt: string;
}

/** `GET /pipelines` of any CDC worker: every pipeline that should run, wherever it runs, and every live worker. */
export interface PipelinesResponse {
  items: PipelineStatus[];
  /** The worker that answered. */
  worker: string;
  workers: CdcWorkerStatus[];
}

/** `POST /contexts/:context/sync`: read-your-writes at a flip. */
export interface SyncResult {
  /** Whether the receiving side had applied everything up to the position taken at the start. */
  caughtUp: boolean;
  waitedMs: number;
  lsn: string;
}

export interface ReconcileSummary {
  clean: boolean;
  summary: string;
  [key: string]: unknown;
}

export type Side = 'monolith' | 'service';

/**
 * `GET /contexts/:context/conflicts` of the CDC worker: both sides wrote the same row (its conflict unit) between two
 * syncs. Kept in the target database of the pipeline that found it (`strangler_cdc.conflicts`).
 */
export interface ConflictEntry {
  id: string;
  at: string;
  pipeline: string;
  /** The conflict unit's table in the target database, and its key. */
  table: string;
  key: Record<string, unknown>;
  policy: ConflictPolicy;
  /** Whose version stays. */
  chosen: Side;
  /** The change the pipeline carried (mapped to the target's columns; null for a delete), and when it committed. */
  incoming: { side: Side; row: Record<string, unknown> | null; committedAt: string };
  /** The target's own version when the change arrived (null if the target had deleted it), and when it was written. */
  local: { side: Side; row: Record<string, unknown> | null; writtenAt: string };
}

/** `GET /guards` of the CDC worker: the write guard of one context (migrations/cdc/guard), the service commits it refused. */
export interface GuardStatus {
  context: string;
  violations: number;
  lastViolation: { table: string; at: string; operation: string } | null;
  tables: { table: string; reference: boolean; armed: boolean; violations: number; lastViolation: { at: string; operation: string } | null }[];
  /** Set when the service's database could not be read. */
  error?: string;
}

// ---- stages and gates -------------------------------------------------------------------------------------------

export interface StagePosition {
  stage: Stage;
  /** The canary share (1–99); 100 for cutover and retired, 0 before. */
  percent: number;
}

export interface GateResult {
  gate: string;
  pass: boolean;
  /** The numbers, in words: what a refusal tells the operator to fix. */
  detail: string;
  /** The stage this gate guards; a move that passes over stages checks each one's gates. */
  stage?: Stage;
}

/** Who moved a stage: the CLI, the dashboard, any other admin API caller, the facade's automatic rollback, or
 * somebody in Unleash's UI (noticed by the facade: no stage service made that change). */
export const ACTORS = ['cli', 'dashboard', 'api', 'auto-rollback', 'unleash'] as const;
export type Actor = (typeof ACTORS)[number];

export interface MoveResult {
  context: string;
  from: StagePosition;
  to: StagePosition;
  direction: 'forward' | 'rollback' | 'none';
  gates: GateResult[];
  forced: boolean;
  sync?: { direction: Direction; caughtUp: boolean; waitedMs: number };
  actions: string[];
  warnings: string[];
}

// ---- history (GET /_strangler/history, `strangler history --json`) ----------------------------------------------

export interface HistoryEntry {
  id: string;
  /** ISO 8601. */
  at: string;
  context: string;
  actor: Actor;
  from: StagePosition;
  to: StagePosition;
  /** Every gate checked for this move, with its numbers (none for a rollback or a change made in Unleash). */
  gates: GateResult[];
  reason: string | null;
  forced: boolean;
}

// ---- the facade's status (GET /_strangler/status) ---------------------------------------------------------------

export interface RollbackRecord {
  context: string;
  at: string;
  from: StagePosition;
  to: StagePosition;
  reason: string;
}

export interface ShadowCounts {
  /** Share (0–100) of monolith-served requests mirrored to the service. */
  sampleRate: number;
  compared: number;
  matched: number;
  diffs: number;
  diffRate: number;
  errors: number;
  /** The plan's `shadow.writes`; `writesMirrored` is false with `none` and after a write-guard violation. */
  writes: 'none' | 'dryRun';
  writesMirrored: boolean;
}

/** What an operator must act on; `critical` findings block the canary gate. */
export interface Finding {
  severity: 'critical';
  code: string;
  message: string;
}

export interface ServiceWindow {
  url: string;
  requests: number;
  failed: number;
  errorRate: number;
  windowSeconds: number;
  lastFallbackAt: string | null;
}

export interface ContextStatus {
  name: string;
  stage: Stage;
  percent: number;
  shadow: ShadowCounts;
  /** Routed requests since the facade started, and the share without a sticky user (a canary cannot keep those). */
  stickiness: { requests: number; withoutUser: number; withoutUserShare: number; fallback: 'address' | 'none' };
  /** The CDC worker's write guard: refused service commits. Null when unknown (no worker, or not extracted yet). */
  writeGuard: GuardStatus | null;
  findings: Finding[];
  breaker: string;
  routes: string[];
  /** The service's answers over the last 5 minutes: failures are 5xx, timeouts and refused connections. */
  service: ServiceWindow;
  /** The last automatic rollback of this context since the facade started, if any. */
  lastRollback: RollbackRecord | null;
  /** From the CDC worker, when the facade knows one (STRANGLER_CDC_URL); null when unknown. */
  pipelines: { forward: PipelineStatus | null; reverse: PipelineStatus | null } | null;
}

export type FlagHealth = 'synchronized' | 'stale' | 'none';

export interface StatusResponse {
  contexts: ContextStatus[];
  unleash: { state: FlagHealth; lastSyncAt?: string; lastError?: string };
}
