import { z } from 'zod';
import { parseConfig, port } from '../../../lib/config';
import { internalSecret } from '../../../lib/http/internal-auth';
import { workshopConfig } from '../../../lib/http/workshop';

const schema = z.object({
  PORT: port(3103),
  DATABASE_URL: z.string().url('must be a postgres:// URL of the payments database'),
  /** Shared with the facade: verifies dry runs and internal calls (see lib/http/internal-auth). */
  STRANGLER_INTERNAL_SECRET: internalSecret(),
  /** `strangler up --workshop`: run-time faults and planted bugs behind the admin token (lib/http/workshop). */
  ...workshopConfig,
});

export type PaymentsConfig = z.infer<typeof schema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): PaymentsConfig => parseConfig(schema, env, 'payments service configuration');
