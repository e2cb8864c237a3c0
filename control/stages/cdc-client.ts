import type { ConflictEntry, Direction, GuardStatus, PipelinesResponse, PipelineStatus, ReconcileSummary, Stage, SyncResult } from '../contracts';
import { ToolkitError } from '../../lib/errors';

export type { GuardStatus, PipelineStatus, SyncResult } from '../contracts';

/**
 * What stage changes need from the CDC worker (its REST API, in the style of Kafka Connect's). Kept as an
 * interface so the CLI and the facade's dashboard drive stages the same way.
 */
export interface CdcClient {
  pipelines(): Promise<PipelineStatus[]>;
  /**
   * First move out of the monolith stage: id ranges, forward pipeline with its snapshot. Idempotent. `force`: a bulk
   * load truncates service tables that already hold rows instead of refusing.
   */
  extract(context: string, options?: { force?: boolean }): Promise<void>;
  /** From canary on: the reverse pipeline (service → monolith). Idempotent. */
  startReverse(context: string): Promise<void>;
  /**
   * Read-your-writes at a flip: takes the sending side's current WAL position and waits (bounded) until the
   * pipeline into the receiving side has applied it.
   */
  sync(context: string, direction: Direction, timeoutMs: number): Promise<SyncResult>;
  reconcile(context: string): Promise<ReconcileSummary>;
  /** Arms (shadow) or disarms (canary on) the write guard of the context's non-reference tables. */
  guard(context: string, armed: boolean, graceMs?: number): Promise<void>;
  /** Refused service writes per context. */
  guards(): Promise<GuardStatus[]>;
  /** The stage a context moved to: sinks settle `stageOwnerWins` conflicts by it. */
  stage(context: string, stage: Stage, percent: number): Promise<void>;
}

export class CdcUnavailableError extends ToolkitError {}

/** No answer at all (not running, wrong address, timeout), as opposed to an answer refusing the request. */
export class CdcUnreachableError extends CdcUnavailableError {
  constructor(message: string) {
    super(message, { retriable: true });
  }
}

/** HTTP client of the CDC worker (`migrations/cdc/worker`), with the admin token its API requires. */
export class HttpCdcClient implements CdcClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new CdcUnreachableError(`CDC worker at ${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    let json: (T & { error?: { code?: string; message?: string } }) | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      // The worker's own message carries the cause (wal_level, a missing table…); a proxy's page is shown as sent.
      const cause = json?.error?.message ?? (text.trim().slice(0, 300) || 'no body');
      throw new CdcUnavailableError(`CDC worker refused ${method} ${path} (${res.status}${json?.error?.code ? ` ${json.error.code}` : ''}): ${cause}`);
    }
    return json as T;
  }

  async pipelines(): Promise<PipelineStatus[]> {
    return (await this.cluster()).items;
  }
  /** The pipelines with the worker running each, and every live worker (active or standby). */
  cluster(): Promise<PipelinesResponse> {
    return this.call<PipelinesResponse>('GET', '/pipelines');
  }
  async extract(context: string, options: { force?: boolean } = {}): Promise<void> {
    // Returns when the initial load is done: allow for a large table (progress shows in `strangler status`).
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/extract`, { force: options.force === true }, 3_600_000);
  }
  async startReverse(context: string): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/reverse`, {}, 60_000);
  }
  sync(context: string, direction: Direction, timeoutMs: number): Promise<SyncResult> {
    return this.call('POST', `/contexts/${encodeURIComponent(context)}/sync`, { direction, timeoutMs }, timeoutMs + 10_000);
  }
  async guard(context: string, armed: boolean, graceMs = 0): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/guard`, { armed, graceMs });
  }
  async guards(): Promise<GuardStatus[]> {
    return (await this.call<{ items: GuardStatus[] }>('GET', '/guards', undefined, 10_000)).items;
  }
  async stage(context: string, stage: Stage, percent: number): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/stage`, { stage, percent });
  }
  async conflicts(context: string, limit: number): Promise<ConflictEntry[]> {
    return (await this.call<{ items: ConflictEntry[] }>('GET', `/contexts/${encodeURIComponent(context)}/conflicts?limit=${limit}`, undefined, 30_000)).items;
  }
  async resetGuard(context: string): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/guard/reset`, {});
  }
  reconcile(context: string, options: { limit?: number } = {}): Promise<ReconcileSummary> {
    return this.call('POST', `/contexts/${encodeURIComponent(context)}/reconcile`, options, 300_000);
  }
}

/** The canary gate's view of a context's write guard; unreadable counts as failing (nothing was verified). */
export async function violationsOf(cdc: CdcClient, context: string): Promise<{ count: number; detail: string }> {
  let g: GuardStatus | undefined;
  try {
    g = (await cdc.guards()).find((x) => x.context === context);
  } catch (err) {
    return { count: Number.NaN, detail: `write guard unreadable: ${(err as Error).message}` };
  }
  if (!g) return { count: 0, detail: 'no write guard (shadow.writes: none and no reference tables)' };
  if (g.error) return { count: Number.NaN, detail: g.error };
  if (!g.violations) return { count: 0, detail: `no service write outside the CDC sink (${g.tables.map((t) => t.table).join(', ')} guarded)` };
  const last = g.lastViolation;
  return {
    count: g.violations,
    detail: `${g.violations} service write(s) refused by the write guard${last ? ` (last: ${last.operation} on ${last.table} at ${last.at})` : ''}: the service does not honour the dry-run marker or writes reference data`,
  };
}
