import { z } from 'zod';
import { ToolkitError } from '../../lib/errors';

/** Any failure talking to Unleash's admin API. */
export class UnleashError extends ToolkitError {}

/** Unleash could not be reached or did not answer in time: worth retrying, unlike the HTTP errors below. */
export class UnleashUnavailableError extends UnleashError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, retriable: true });
  }
}

/** Unleash answered with an error status; `message` carries Unleash's own explanation. */
export class UnleashApiError extends UnleashError {
  constructor(
    message: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'UnleashApiError';
  }
}

/** 401/403: the token is unknown, expired or not an admin token. */
export class UnleashAuthError extends UnleashApiError {
  constructor(...args: ConstructorParameters<typeof UnleashApiError>) {
    super(...args);
    this.name = 'UnleashAuthError';
  }
}

/** The flag (or the environment on it) does not exist in the project. */
export class FlagNotFoundError extends UnleashApiError {
  constructor(
    readonly flag: string,
    ...args: ConstructorParameters<typeof UnleashApiError>
  ) {
    super(...args);
    this.name = 'FlagNotFoundError';
  }
}

/** Unleash keeps archived flags' names reserved: creating one again fails until it is revived or deleted. */
export class FlagArchivedError extends UnleashError {
  constructor(readonly flag: string) {
    super(`flag ${flag} exists in Unleash but is archived: revive or delete it there before reusing the name`);
    this.name = 'FlagArchivedError';
  }
}

/** The answer did not have the shape this client relies on (an Unleash upgrade changed the API). */
export class UnleashResponseError extends UnleashError {
  constructor(message: string) {
    super(message);
    this.name = 'UnleashResponseError';
  }
}

export interface FlagStrategy {
  id: string;
  name: string;
  parameters: Record<string, string>;
}

/** A flag as seen in one environment. */
export interface FlagState {
  name: string;
  enabled: boolean;
  strategies: FlagStrategy[];
}

export interface FlagSummary {
  name: string;
  type: string;
  /** In the client's environment. */
  enabled: boolean;
  stale: boolean;
}

export interface UnleashAdminClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:4242 (a trailing slash or base path is fine). */
  url: string;
  /** `*:*.<secret>` admin token, sent as-is in `Authorization`. */
  adminToken: string;
  project?: string;
  environment?: string;
  timeoutMs?: number;
}

export const FLEXIBLE_ROLLOUT = 'flexibleRollout';

/**
 * Stickiness for "sticky on the user". Unleash's `default` falls back from userId to sessionId and then to a random
 * number, so a request that lacks a userId could land on either side on every call. Naming the field makes a
 * missing userId evaluate to false (the flag stays off), and for a given userId and flag the answer depends only on
 * the rollout percentage: murmur3(`<groupId>:<userId>`) mod 100.
 */
export const USER_STICKINESS = 'userId';

const strategySchema = z.object({
  id: z.string(),
  name: z.string(),
  parameters: z.record(z.string(), z.coerce.string()).nullish(),
});
const featureEnvironmentSchema = z.object({
  name: z.string(),
  enabled: z.boolean(),
  strategies: z.array(strategySchema),
});
const projectFeaturesSchema = z.object({
  features: z.array(
    z.object({
      name: z.string(),
      type: z.string(),
      stale: z.boolean().nullish(),
      environments: z.array(z.object({ name: z.string(), enabled: z.boolean() })).default([]),
    }),
  ),
});

/**
 * A small typed client for the parts of Unleash's admin API we drive flags with. One instance targets one project
 * and one environment (default `default` / `development`, what a fresh Unleash has).
 */
export class UnleashAdminClient {
  readonly project: string;
  readonly environment: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: UnleashAdminClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.project = options.project ?? 'default';
    this.environment = options.environment ?? 'development';
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Creates the flag unless it exists; `created` says which. Safe to call from several processes at once. */
  async ensureFlag(name: string, type = 'release'): Promise<{ created: boolean }> {
    if (await this.flagExists(name)) return { created: false };
    try {
      await this.request('POST', this.projectPath('/features'), { name, type });
      return { created: true };
    } catch (err) {
      if (!(err instanceof UnleashApiError) || err.status !== 409) throw err;
      // 409: someone created it since our check, or the name belongs to an archived flag.
      if (await this.flagExists(name)) return { created: false };
      throw new FlagArchivedError(name);
    }
  }

  async getFlag(name: string): Promise<FlagState> {
    const body = await this.request('GET', this.envPath(name), undefined, name);
    const parsed = this.parse(featureEnvironmentSchema, body, `flag ${name}`);
    return {
      name: parsed.name,
      enabled: parsed.enabled,
      strategies: parsed.strategies.map((s) => ({ id: s.id, name: s.name, parameters: s.parameters ?? {} })),
    };
  }

  /**
   * Leaves exactly one strategy on the flag: a `flexibleRollout` at `percent` %, keyed on `stickiness` and grouped
   * by the flag's name. Strategies are OR-ed, so any other strategy (including the 100 % one Unleash adds when a
   * flag without strategies is enabled) would let users past the percentage; constraints and segments are cleared
   * for the same reason. The existing strategy is updated in place so its id, and Unleash's history, stay stable.
   * Does not change whether the flag is enabled.
   */
  async setRollout(name: string, percent: number, stickiness: string = USER_STICKINESS): Promise<FlagState> {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`rollout must be an integer from 0 to 100, got ${percent}`);
    }
    const current = await this.getFlag(name);
    const strategy = {
      name: FLEXIBLE_ROLLOUT,
      parameters: { rollout: String(percent), stickiness, groupId: name },
      constraints: [],
      segments: [],
      disabled: false,
    };
    const keep = current.strategies.find((s) => s.name === FLEXIBLE_ROLLOUT);
    const strategiesPath = `${this.envPath(name)}/strategies`;
    if (keep) {
      await this.request('PUT', `${strategiesPath}/${encodeURIComponent(keep.id)}`, strategy, name);
    } else {
      await this.request('POST', strategiesPath, strategy, name);
    }
    // Only after ours is in place, so the flag never passes through a state with no strategy.
    for (const extra of current.strategies.filter((s) => s !== keep)) {
      await this.request('DELETE', `${strategiesPath}/${encodeURIComponent(extra.id)}`, undefined, name);
    }
    return this.getFlag(name);
  }

  /**
   * Turns the flag on in the environment. Unleash gives a flag without strategies a 100 % rollout when it is
   * enabled, so call `setRollout` first unless everyone should get it.
   */
  async enable(name: string): Promise<void> {
    await this.request('POST', `${this.envPath(name)}/on`, undefined, name);
  }

  async disable(name: string): Promise<void> {
    await this.request('POST', `${this.envPath(name)}/off`, undefined, name);
  }

  /** Flags of the project (archived ones excluded), sorted by name, optionally only those starting with `prefix`. */
  async listFlags(prefix = ''): Promise<FlagSummary[]> {
    const body = await this.request('GET', this.projectPath('/features'));
    const { features } = this.parse(projectFeaturesSchema, body, `features of project ${this.project}`);
    return features
      .filter((f) => f.name.startsWith(prefix))
      .map((f) => ({
        name: f.name,
        type: f.type,
        enabled: f.environments.some((e) => e.name === this.environment && e.enabled),
        stale: f.stale ?? false,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private async flagExists(name: string): Promise<boolean> {
    try {
      await this.request('GET', this.projectPath(`/features/${encodeURIComponent(name)}`), undefined, name);
      return true;
    } catch (err) {
      if (err instanceof FlagNotFoundError) return false;
      throw err;
    }
  }

  private projectPath(suffix: string): string {
    return `/api/admin/projects/${encodeURIComponent(this.project)}${suffix}`;
  }

  private envPath(name: string): string {
    return this.projectPath(
      `/features/${encodeURIComponent(name)}/environments/${encodeURIComponent(this.environment)}`,
    );
  }

  private parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UnleashResponseError(`unexpected answer from Unleash for ${what}: ${issues}`);
  }

  /** `flag` names the flag a 404 is about, so callers get a FlagNotFoundError instead of a bare status. */
  private async request(method: string, path: string, body?: unknown, flag?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.options.adminToken,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new UnleashUnavailableError(`Unleash at ${this.baseUrl} did not answer ${method} ${path}: ${String(err)}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.ok) return parsed;
    const message = `${method} ${path} failed with HTTP ${res.status}: ${describeError(parsed)}`;
    if (res.status === 401 || res.status === 403) throw new UnleashAuthError(message, res.status, method, path, parsed);
    if (res.status === 404 && flag !== undefined) {
      throw new FlagNotFoundError(flag, message, res.status, method, path, parsed);
    }
    throw new UnleashApiError(message, res.status, method, path, parsed);
  }
}

/** Unleash errors look like `{ name, message, details: [{ message }] }`; details are the useful part. */
function describeError(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 500) || '(empty body)';
  if (body && typeof body === 'object') {
    const { message, details } = body as { message?: unknown; details?: unknown };
    const detail = Array.isArray(details)
      ? details.map((d: { message?: unknown }) => d?.message).filter((m) => typeof m === 'string')
      : [];
    if (detail.length && detail.join('; ') !== message) return `${String(message ?? '')} ${detail.join('; ')}`.trim();
    if (typeof message === 'string') return message;
  }
  return '(no details)';
}
