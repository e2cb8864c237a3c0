import { z } from 'zod';
import { parseConfig, port } from '../../../lib/config';
import { internalSecret } from '../../../lib/http/internal-auth';
import { workshopConfig } from '../../../lib/http/workshop';

export const DEFAULT_ORDERS_URL = 'http://127.0.0.1:3102';
export const DEFAULT_ORDERS_TIMEOUT_MS = 2000;

// An empty env var counts as unset, so `ORDERS_URL=` falls back to the default instead of failing validation.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

const schema = z.object({
  PORT: port(3101),
  DATABASE_URL: z.string().url('must be a postgres:// URL of the users database'),
  /** Shared with the facade: verifies dry runs and internal calls (see lib/http/internal-auth). */
  STRANGLER_INTERNAL_SECRET: internalSecret(),
  /** `strangler up --workshop`: run-time faults and planted bugs behind the admin token (lib/http/workshop). */
  ...workshopConfig,
  ORDERS_URL: z.preprocess(unsetIfEmpty, z.string().url('must be the http:// base URL of the orders service').default(DEFAULT_ORDERS_URL)),
  ORDERS_TIMEOUT_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(60_000).default(DEFAULT_ORDERS_TIMEOUT_MS)),
});

export type UsersConfig = z.infer<typeof schema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): UsersConfig => parseConfig(schema, env, 'users service configuration');
