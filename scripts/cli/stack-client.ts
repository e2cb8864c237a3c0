import { readStackState } from '../stack/home';
import { CliError } from './errors';

export interface StackConnection {
  facadeUrl: string;
  adminToken: string;
  unleashUrl: string;
  unleashAdminToken: string;
  /** The CDC worker's REST API, when the stack runs one. */
  cdcUrl?: string;
  /** The Postgres server holding every database of the plan (reconcile reads it directly). */
  postgresUrl?: string;
  /** The toolkit's database (the facade's): the stage lock and history that every stage move goes through. */
  facadeDatabaseUrl?: string;
}

/**
 * Finds the running stack: explicit environment first (for a stack started elsewhere), then `.strangler/stack.json`
 * written by `strangler up`.
 */
export function findStack(env: NodeJS.ProcessEnv = process.env): StackConnection {
  const state = readStackState() as
    | { facadeUrl?: string; adminToken?: string; unleash?: { url?: string; adminToken?: string }; cdcUrl?: string; postgresUrl?: string; facadeDatabaseUrl?: string }
    | undefined;
  const conn = {
    facadeUrl: env.STRANGLER_FACADE_URL || state?.facadeUrl,
    adminToken: env.STRANGLER_ADMIN_TOKEN || state?.adminToken,
    unleashUrl: env.UNLEASH_URL || state?.unleash?.url,
    unleashAdminToken: env.UNLEASH_ADMIN_TOKEN || state?.unleash?.adminToken,
    cdcUrl: env.STRANGLER_CDC_URL || state?.cdcUrl,
    postgresUrl: env.STRANGLER_PG_URL || state?.postgresUrl,
    facadeDatabaseUrl: env.STRANGLER_FACADE_DATABASE_URL || state?.facadeDatabaseUrl,
  };
  const missing = Object.entries({
    STRANGLER_FACADE_URL: conn.facadeUrl,
    STRANGLER_ADMIN_TOKEN: conn.adminToken,
    UNLEASH_URL: conn.unleashUrl,
    UNLEASH_ADMIN_TOKEN: conn.unleashAdminToken,
  })
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new CliError(`no running stack found (start one with \`npm start\`, or set ${missing.join(', ')})`);
  }
  return conn as StackConnection;
}

/** GET/POST JSON with a timeout; any failure becomes one line naming what could not be reached. */
export async function requestJson<T>(url: string, init: { method?: string; token?: string; body?: unknown; timeoutMs?: number; what: string }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach the ${init.what} at ${new URL(url).origin}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: string } })?.error?.message ?? `HTTP ${res.status}`;
    throw new CliError(`${init.what}: ${message}`);
  }
  return body as T;
}
