import { z } from 'zod';
import { optionalString, parseConfig, port } from '../../../lib/config';

const schema = z.object({
  PORT: port(8083),
  /** The worker's own database (which pipelines should run); plan database names resolve on the same server. */
  CDC_DATABASE_URL: z.string().url('must be a postgres:// URL of the CDC worker database'),
  KAFKA_BROKERS: z.string().min(1, 'must list the Kafka brokers, e.g. 127.0.0.1:9092'),
  STRANGLER_PLAN: optionalString(),
});

export type CdcWorkerConfig = z.infer<typeof schema>;

export const loadCdcWorkerConfig = (env: NodeJS.ProcessEnv = process.env): CdcWorkerConfig => parseConfig(schema, env, 'CDC worker configuration');
