import type http from 'node:http';
import { redactUrl, type Logger } from '../../../lib/logger';
import type { ShadowRules } from '../../../control/plan';
import { SHADOW_HEADER } from '../../../lib/http/dry-run';
import { internalHeaders } from '../../../lib/http/internal-auth';
import { recordShadow } from '../metrics/metrics';
import type { Upstream } from '../upstreams/upstream';
import { sendCopy } from './capture';
import { compareResponses, type Captured } from './compare';
import { compileRules, type CompiledRules } from './rules';
import { diffRow, errorRow } from './diff-rows';
import type { DiffStore } from './diff-store';
import { NoiseLearner } from './noise';
import { ComparisonQueue } from './comparison-queue';
import { sleep } from '../../../lib/retry';

export interface ShadowContext {
  name: string;
  service: Upstream;
  rules: CompiledRules;
  redact: string[];
  noiseSampleRate: number;
  /** Whether writes are mirrored (with the dry-run marker) or only GET and HEAD. */
  writes: ShadowRules['writes'];
  /**
   * Set once the CDC worker reports a write the service committed in spite of the dry-run marker: from then on the
   * context's writes are not mirrored any more, whatever the plan says.
   */
  writesStopped?: string;
}

export interface ShadowRequest {
  context: ShadowContext;
  route: string;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
}

/** Compiles a context's shadow rules once; a bad ignore entry fails start-up naming the plan field. */
export function shadowContext(name: string, service: Upstream, rules: ShadowRules, routes: string[]): ShadowContext {
  return {
    name,
    service,
    rules: compileRules(rules, { label: `contexts.${name}.shadow`, routes }),
    redact: rules.redact,
    noiseSampleRate: rules.noiseSampleRate,
    writes: rules.writes,
  };
}

/**
 * Runs shadow comparisons off the hot path: the client already has (or is getting) the monolith's answer; the
 * mirror to the service, the optional second monolith call for noise learning, and the comparison run here
 * under a concurrency cap and a timeout. Nothing here can fail or delay the client's request.
 */
export class Shadower {
  private inflight = 0;
  readonly noise = new NoiseLearner();
  private readonly comparisons = new ComparisonQueue();

  constructor(
    private readonly monolith: Upstream,
    private readonly store: DiffStore,
    private readonly logger: Logger,
    private readonly options: { concurrency: number; timeoutMs: number; readDelayMs: number; internalSecret?: string },
  ) {}

  /**
   * Whether a request may be mirrored now. A write only when the plan says the service honours the dry-run marker
   * and no violation was seen: a service that ignores the marker would commit it a second time. A full pipe skips
   * (and counts) rather than queueing behind slow services.
   */
  admit(context: ShadowContext, method: string | undefined): boolean {
    if (method !== 'GET' && method !== 'HEAD' && !mirrorsWrites(context)) return false;
    if (this.inflight >= this.options.concurrency) {
      recordShadow(context.name, 'skipped');
      return false;
    }
    return true;
  }

  run(request: ShadowRequest, monolithAnswer: Promise<Captured>): void {
    this.inflight += 1;
    const { context } = request;
    const safe = request.method === 'GET' || request.method === 'HEAD';
    const toService = () => sendCopy(context.service, request.method, request.path, request.headers, request.body, { [SHADOW_HEADER]: '1', ...internalHeaders(this.options.internalSecret, request.requestId) }, this.options.timeoutMs);
    const toMonolith = () => sendCopy(this.monolith, request.method, request.path, request.headers, request.body, {}, this.options.timeoutMs);
    // A write is mirrored at once, so the service's dry run sees the state the monolith's write saw (before the
    // forward pipeline brings the monolith's own result over). A read is mirrored once the monolith has answered.
    const mirror = safe ? monolithAnswer.then(toService) : toService();
    const sampleNoise = safe && Math.random() < context.noiseSampleRate;
    const second = sampleNoise ? toMonolith().catch(() => undefined) : Promise.resolve(undefined);
    const compare = (monolith: Captured, service: Captured) =>
      this.comparisons.run(() => compareResponses({ route: request.route, method: request.method, monolith, service, rules: context.rules, noise: this.noise.noiseFor(request.route) }));
    void Promise.allSettled([monolithAnswer, mirror, second])
      .then(async ([m, s, again]) => {
        if (m.status !== 'fulfilled') return;
        if (again.status === 'fulfilled' && again.value) {
          const second = again.value;
          await this.comparisons.run(() => this.noise.observe(request.route, m.value, second, { rules: context.rules, route: request.route, method: request.method }));
        }
        const where = { context: context.name, route: request.route, method: request.method, path: redactUrl(redactQuery(request.path, context.redact)), requestId: request.requestId };
        if (s.status !== 'fulfilled') {
          recordShadow(context.name, 'error');
          this.store.count(context.name, request.route, 'error');
          this.store.record(errorRow(where, m.value, (s.reason as Error)?.message ?? String(s.reason)));
          return;
        }
        let result = await compare(m.value, s.value);
        let transient = false;
        if (!result.match && safe) {
          // A read that differs may only have raced replication or a concurrent write. Ask both sides again once the
          // pipeline has had time to catch up: a difference that persists is real, one that vanishes was timing.
          await sleep(this.options.readDelayMs);
          const [m2, s2] = await Promise.all([toMonolith().catch(() => undefined), toService().catch(() => undefined)]);
          if (m2 && s2 && (await compare(m2, s2)).match) transient = true;
        }
        if (transient) result = { ...result, match: true };
        recordShadow(context.name, result.match ? 'matched' : 'diff');
        this.store.count(context.name, request.route, result.match ? 'matched' : 'diff', transient || result.noise.length > 0);
        if (!result.match) this.store.record(diffRow(where, m.value, s.value, result, context.redact));
      })
      .catch((err: unknown) => this.logger.warn({ err }, 'shadow comparison failed'))
      .finally(() => {
        this.inflight -= 1;
      });
  }

  get pending(): number {
    return this.inflight;
  }
}

export function mirrorsWrites(context: ShadowContext): boolean {
  return context.writes === 'dryRun' && context.writesStopped === undefined;
}

/** Query values of redacted fields (`?email=…`) never reach the diff store. */
export function redactQuery(path: string, redact: string[]): string {
  const q = path.indexOf('?');
  if (q === -1 || redact.length === 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  const lower = new Set(redact.map((r) => r.toLowerCase()));
  for (const key of [...params.keys()]) if (lower.has(key.toLowerCase())) params.set(key, '[redacted]');
  return `${path.slice(0, q)}?${params.toString()}`;
}
