import { z } from 'zod';
import { optionalString, parseConfig, port } from '../../lib/config';
import { internalSecret } from '../../lib/http/internal-auth';

const ms = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

const schema = z.object({
  PORT: port(8080),
  STRANGLER_PLAN: optionalString(),
  /** The facade's own database: shadow diffs and their counts. */
  FACADE_DATABASE_URL: z.string().url('must be a postgres:// URL of the facade database'),
  STRANGLER_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  UNLEASH_URL: optionalString().pipe(z.string().url('must be the Unleash server URL, e.g. http://127.0.0.1:4242').optional()),
  UNLEASH_CLIENT_TOKEN: optionalString(),
  /** Lets the facade roll a failing context back through Unleash's admin API; without it, no automatic rollback. */
  UNLEASH_ADMIN_TOKEN: optionalString(),
  // Unleash bumps its revision on a 1 s timer; polling at 500 ms keeps a flip under 2 s end to end.
  UNLEASH_REFRESH_MS: ms(500),
  UNLEASH_BACKUP_DIR: optionalString(),
  /** The CDC worker's REST API: pipeline state for the status and gates. */
  STRANGLER_CDC_URL: optionalString(),
  /**
   * HS256 secret for stickiness: without `stickiness` in the plan only a verified `Authorization: Bearer` JWT's `sub`
   * is the user; with it, the secret of `jwt` sources that name neither `secret` nor `jwksUrl`.
   */
  JWT_SECRET: optionalString(),
  /** Signs the shadow mirror's dry runs; the services refuse unsigned ones (see lib/http/internal-auth). */
  STRANGLER_INTERNAL_SECRET: internalSecret(),
  /**
   * Behind a TLS terminator or load balancer: trust its `X-Forwarded-*` (the session cookie gets `Secure` on
   * `X-Forwarded-Proto: https`, and the headers are passed on). Off: client-sent ones are replaced.
   */
  TRUST_PROXY: z.enum(['true', 'false', '']).default('false').transform((v) => v === 'true'),
  UPSTREAM_TIMEOUT_MS: ms(10_000),
  SHADOW_TIMEOUT_MS: ms(5_000),
  SHADOW_CONCURRENCY: z.coerce.number().int().min(1).default(64),
  /** A read that differed is asked again on both sides after this long (time for the forward pipeline to catch up). */
  SHADOW_READ_DELAY_MS: z.coerce.number().int().min(0).default(500),
  /** How often the CDC worker's write guard is read (violations stop write mirroring). */
  WRITE_GUARD_POLL_MS: ms(2_000),
  /** The admin API's time series (`GET /_strangler/series`): one point per context this often, kept this long. */
  SERIES_RESOLUTION_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
  SERIES_RETENTION_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(6 * 3600),
  /**
   * Facade processes sharing the port (one per core is the point); each is a whole facade. What they share lives
   * outside them (flags in Unleash, diffs and history in the database); see the README for what is per process.
   */
  FACADE_PROCESSES: z.coerce.number().int().min(1).max(256).default(1),
  BREAKER_RESET_MS: ms(5_000),
  BREAKER_ERROR_PERCENT: z.coerce.number().min(1).max(100).default(50),
  BREAKER_VOLUME: z.coerce.number().int().min(1).default(5),
});

export type FacadeConfig = z.infer<typeof schema>;

export const loadFacadeConfig = (env: NodeJS.ProcessEnv = process.env): FacadeConfig => parseConfig(schema, env, 'facade configuration');
