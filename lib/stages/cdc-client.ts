/**
 * What stage changes need from the CDC worker (its REST API, in the style of Kafka Connect's). Kept as an
 * interface so the CLI and the facade's dashboard drive stages the same way.
 */
export interface PipelineStatus {
  name: string;
  context: string;
  direction: 'forward' | 'reverse';
  state: 'snapshotting' | 'streaming' | 'retrying' | 'stopped' | 'error';
  lagMs: number | null;
  lagBytes: number | null;
  [key: string]: unknown;
}

export interface SyncResult {
  /** Whether the receiving side had applied everything up to the position taken at the start. */
  caughtUp: boolean;
  waitedMs: number;
  lsn: string;
}

export interface CdcClient {
  pipelines(): Promise<PipelineStatus[]>;
  /** First move out of the monolith stage: id ranges, forward pipeline with its snapshot. Idempotent. */
  extract(context: string): Promise<void>;
  /** From canary on: the reverse pipeline (service → monolith). Idempotent. */
  startReverse(context: string): Promise<void>;
  /**
   * Read-your-writes at a flip: takes the sending side's current WAL position and waits (bounded) until the
   * pipeline into the receiving side has applied it.
   */
  sync(context: string, direction: 'forward' | 'reverse', timeoutMs: number): Promise<SyncResult>;
  reconcile(context: string): Promise<{ clean: boolean; summary: string; [key: string]: unknown }>;
}

export class CdcUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CdcUnavailableError';
  }
}

/** No answer at all (not running, wrong address, timeout), as opposed to an answer refusing the request. */
export class CdcUnreachableError extends CdcUnavailableError {
  constructor(message: string) {
    super(message);
    this.name = 'CdcUnreachableError';
  }
}

/** HTTP client of the CDC worker (`migrations/cdc/worker`). */
export class HttpCdcClient implements CdcClient {
  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
    return (await this.call<{ items: PipelineStatus[] }>('GET', '/pipelines')).items;
  }
  async extract(context: string): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/extract`, {}, 120_000);
  }
  async startReverse(context: string): Promise<void> {
    await this.call('POST', `/contexts/${encodeURIComponent(context)}/reverse`, {}, 60_000);
  }
  sync(context: string, direction: 'forward' | 'reverse', timeoutMs: number): Promise<SyncResult> {
    return this.call('POST', `/contexts/${encodeURIComponent(context)}/sync`, { direction, timeoutMs }, timeoutMs + 10_000);
  }
  reconcile(context: string, options: { limit?: number } = {}): Promise<{ clean: boolean; summary: string; [key: string]: unknown }> {
    return this.call('POST', `/contexts/${encodeURIComponent(context)}/reconcile`, options, 300_000);
  }
}
