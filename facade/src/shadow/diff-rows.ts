import type { Captured, CompareResult, DiffEntry } from './compare';
import { redactAndTruncate } from './redact';

/** One shadow comparison that did not match (or whose service call failed), as stored. */
export interface DiffRow {
  context: string;
  /** The plan route's source, e.g. `* /api/users/:id`. */
  route: string;
  method: string;
  /** The request path (with query), as the client sent it. */
  path: string;
  requestId?: string | null;
  monolithStatus?: number | null;
  serviceStatus?: number | null;
  /** Redacted and truncated entries (see `diffRow`), markers included. */
  diffs: DiffEntry[];
  ignored?: string[];
  noise?: string[];
}

/** Where a shadowed request came from, for its stored row. */
export interface DiffRequest {
  context: string;
  route: string;
  method: string;
  path: string;
  requestId?: string | null;
}

/** The row of a comparison that did not match: entries redacted and cut, markers kept alongside. */
export function diffRow(
  request: DiffRequest,
  monolith: Captured,
  service: Captured,
  result: CompareResult,
  redact: readonly string[],
  maxValueChars?: number,
): DiffRow {
  return {
    ...request,
    monolithStatus: monolith.status,
    serviceStatus: service.status,
    diffs: redactAndTruncate([...result.diffs, ...result.markers], redact, maxValueChars),
    ignored: result.ignored,
    noise: result.noise,
  };
}

/** The row of a shadow call that got no response from the service (refused, timed out, breaker open). */
export function errorRow(request: DiffRequest, monolith: Captured, error: string): DiffRow {
  return {
    ...request,
    monolithStatus: monolith.status,
    serviceStatus: null,
    diffs: redactAndTruncate([{ path: '$error', monolith: null, service: error }], []),
    ignored: [],
    noise: [],
  };
}
