import type { Upstream } from '../upstreams/upstream';

export interface UpstreamHealth {
  status: 'ok' | 'down';
  ms?: number;
  error?: string;
  /** What the upstream's `/health` body lists under `notices` (e.g. a workshop fault), shown on the dashboard. */
  notices?: string[];
}

/**
 * Probes each upstream's `/health`, at most once per `maxAgeMs`, so a dashboard polling every second does not
 * turn into load on the services.
 */
/** At most a few short strings: the body is the upstream's, not ours. */
function noticesOf(body: string): string[] {
  try {
    const notices = (JSON.parse(body) as { notices?: unknown })?.notices;
    return Array.isArray(notices) ? notices.filter((n): n is string => typeof n === 'string').slice(0, 10).map((n) => n.slice(0, 200)) : [];
  } catch {
    return [];
  }
}

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
      const notices = noticesOf(await res.text());
      const extra = notices.length ? { notices } : {};
      return res.ok ? { status: 'ok', ms: Date.now() - started, ...extra } : { status: 'down', ms: Date.now() - started, error: `HTTP ${res.status}`, ...extra };
    } catch (err) {
      return { status: 'down', error: (err as Error).message };
    }
  }
}
