import type { Upstream } from '../upstreams/upstream';

export interface UpstreamHealth {
  status: 'ok' | 'down';
  ms?: number;
  error?: string;
}

/**
 * Probes each upstream's `/health`, at most once per `maxAgeMs`, so a dashboard polling every second does not
 * turn into load on the services.
 */
export class UpstreamHealthChecker {
  private cache?: { at: number; result: Promise<Record<string, UpstreamHealth>> };

  constructor(
    private readonly upstreams: Upstream[],
    private readonly maxAgeMs = 1000,
    private readonly timeoutMs = 1000,
  ) {}

  check(): Promise<Record<string, UpstreamHealth>> {
    if (this.cache && Date.now() - this.cache.at < this.maxAgeMs) return this.cache.result;
    const result = Promise.all(this.upstreams.map(async (u) => [u.name, await this.probe(u)] as const)).then((pairs) => Object.fromEntries(pairs));
    this.cache = { at: Date.now(), result };
    return result;
  }

  private async probe(u: Upstream): Promise<UpstreamHealth> {
    const started = Date.now();
    try {
      const res = await fetch(new URL('/health', u.url), { signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      return res.ok ? { status: 'ok', ms: Date.now() - started } : { status: 'down', ms: Date.now() - started, error: `HTTP ${res.status}` };
    } catch (err) {
      return { status: 'down', error: (err as Error).message };
    }
  }
}
