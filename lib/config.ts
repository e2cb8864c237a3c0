import { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Validates configuration once at start-up. Every problem names the field (the env var or plan path) so an
 * operator can fix it without reading code.
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what = 'configuration'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const field = (path: PropertyKey[]) => path.map(String).join('.') || '(root)';
  // One error per unknown key, naming it (a strict object reports them together, one message line per key).
  const issues = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key, i) => ({ field: field([...issue.path, key]), message: issue.message.split('\n')[i] ?? 'unknown key' }))
      : [{ field: field(issue.path), message: issue.message }],
  );
  const lines = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  throw new ConfigError(`invalid ${what}: ${lines}`, issues);
}

/** A TCP port from the environment, with a default. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Optional non-empty string: an empty env var counts as unset. */
export const optionalString = () =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
