import { z } from 'zod';
import { parseConfig, port } from '../../lib/config';

const schema = z.object({
  PORT: port(3000),
  DATABASE_URL: z.string().url('must be a postgres:// URL of the monolith database'),
  SEED_DEMO_DATA: z.enum(['true', 'false']).default('true'),
  DISPATCH_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
});

export type MonolithConfig = z.infer<typeof schema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): MonolithConfig => parseConfig(schema, env, 'monolith configuration');
