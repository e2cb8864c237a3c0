import type { Request } from 'express';

/**
 * The facade mirrors traffic to a service in shadow mode with this header. The service does all the work and
 * answers as it would have, but commits nothing, publishes nothing, and passes the header to every service it
 * calls so they do the same.
 */
export const SHADOW_HEADER = 'x-strangler-shadow';
/** The facade's signature of the request id (lib/http/internal-auth): what makes the marker believable. */
export const SIGNATURE_HEADER = 'x-strangler-signature';

export function isDryRun(req: Pick<Request, 'headers'>): boolean {
  return req.headers[SHADOW_HEADER] === '1';
}

/**
 * Headers to forward on a call made while serving `req`: request id and the dry-run marker with its signature (valid
 * for the same request id, so the next service believes it too).
 */
export function propagatedHeaders(req: Pick<Request, 'headers'> & { id?: string }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (req.id) headers['x-request-id'] = req.id;
  if (isDryRun(req)) {
    headers[SHADOW_HEADER] = '1';
    const signature = req.headers[SIGNATURE_HEADER];
    if (typeof signature === 'string') headers[SIGNATURE_HEADER] = signature;
  }
  return headers;
}
