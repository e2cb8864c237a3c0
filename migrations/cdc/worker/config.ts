import { z } from 'zod';
import { optionalString, parseConfig, port } from '../../../lib/config';

const schema = z.object({
  PORT: port(8083),
  /** The worker's own database (which pipelines should run); plan database names resolve on the same server. */
  CDC_DATABASE_URL: z.string().url('must be a postgres:// URL of the CDC worker database'),
  KAFKA_BROKERS: z.string().min(1, 'must list the Kafka brokers, e.g. 127.0.0.1:9092'),
  STRANGLER_PLAN: optionalString(),
  /** Every route but /health needs it as `Authorization: Bearer …` (the CLI and the facade send it). */
  STRANGLER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (the same admin token as the facade)'),
  /** Host names, comma-separated, that may be in `Host` besides 127.0.0.1 and localhost (e.g. `cdc` in compose). */
  /** Names this worker in leases, `GET /pipelines` and `strangler status`; default: host name and process id. */
  CDC_WORKER_ID: optionalString(),
  /** How often a standby looks for pipelines no worker runs (a dead worker's): a takeover starts within this. */
  CDC_LEASE_POLL_MS: z.coerce.number().int().min(100, 'must be at least 100 (ms)').max(60_000, 'must be at most 60000 (ms)').default(1_000),
  CDC_ALLOWED_HOSTS: optionalString().transform((v) => (v ? v.split(',').map((h) => h.trim()).filter(Boolean) : [])),
});

export type CdcWorkerConfig = z.infer<typeof schema>;

export const loadCdcWorkerConfig = (env: NodeJS.ProcessEnv = process.env): CdcWorkerConfig => parseConfig(schema, env, 'CDC worker configuration');
