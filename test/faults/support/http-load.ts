import { sleep } from './children';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  user: string;
  body?: unknown;
}

export interface Sample {
  method: string;
  path: string;
  user: string;
  /** What the client sent as `email` (POSTs), to look the row up afterwards. */
  email?: string;
  status: number | null;
  upstream?: string;
  fallback: boolean;
  code?: string;
  /** Set when no HTTP answer came back at all (connection refused or reset). */
  error?: string;
  start: number;
  end: number;
  phase: string;
}

/**
 * Closed-loop HTTP load: `concurrency` clients, each sending its next request as soon as the previous one answered.
 * Every answer is kept with the facade's routing headers, so a test can say afterwards which side served whom.
 */
const running = new Set<HttpLoad>();

/** For afterAll: a test that failed half-way must not leave clients hammering the next one's servers. */
export async function stopAllLoads(): Promise<void> {
  await Promise.all([...running].map((l) => l.stop()));
}

export class HttpLoad {
  readonly samples: Sample[] = [];
  phase = 'start';
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly concurrency: number,
    private readonly next: (n: number) => RequestSpec,
    /** Pause between a client's requests: the load generator shares two cores with everything it loads. */
    private readonly thinkMs = 5,
  ) {}

  start(): void {
    this.running = true;
    running.add(this);
    this.loops = Array.from({ length: this.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    running.delete(this);
    await Promise.all(this.loops);
  }

  /** Samples since `from` (ms epoch) matching `filter`. */
  where(filter: (s: Sample) => boolean): Sample[] {
    return this.samples.filter(filter);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const spec = this.next(this.n++);
      const sample = await send(this.baseUrl, spec, this.phase);
      this.samples.push(sample);
      // A refused connection answers at once: do not spin while the facade restarts.
      await sleep(sample.error ? 20 : this.thinkMs);
    }
  }
}

export async function send(baseUrl: string, spec: RequestSpec, phase = ''): Promise<Sample> {
  const start = Date.now();
  const email = (spec.body as { email?: unknown } | undefined)?.email;
  const base = { method: spec.method, path: spec.path, user: spec.user, email: typeof email === 'string' ? email : undefined, start, phase };
  try {
    const res = await fetch(`${baseUrl}${spec.path}`, {
      method: spec.method,
      headers: { 'x-user-id': spec.user, ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let code: string | undefined;
    if (res.status >= 400) {
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
      } catch {
        code = `(not JSON: ${text.slice(0, 60)})`;
      }
    }
    return {
      ...base,
      status: res.status,
      upstream: res.headers.get('x-strangler-upstream') ?? undefined,
      fallback: res.headers.get('x-strangler-fallback') === '1',
      code,
      end: Date.now(),
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ...base, status: null, fallback: false, error: cause?.code ?? cause?.message ?? String(err), end: Date.now() };
  }
}
