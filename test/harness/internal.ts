import { internalHeaders } from '../../lib/http/internal-auth';
import { SHADOW_HEADER } from '../../lib/http/dry-run';

/** The STRANGLER_INTERNAL_SECRET every test facade and service shares. */
export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789';

let next = 0;

/** Headers of a dry run as the facade sends it: the marker, a fresh request id and its signature. */
export function signedDryRun(): Record<string, string> {
  next += 1;
  return { [SHADOW_HEADER]: '1', ...internalHeaders(TEST_INTERNAL_SECRET, `test-dry-run-${process.pid}-${next}`) };
}

/** Headers of a signed internal call (orders → payments). */
export function signedCall(): Record<string, string> {
  next += 1;
  return internalHeaders(TEST_INTERNAL_SECRET, `test-call-${process.pid}-${next}`);
}
