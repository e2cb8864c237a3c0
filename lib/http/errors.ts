/** An error that maps to one HTTP status and a stable machine-readable code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what = 'resource') => new HttpError(404, 'not_found', `${what} not found`);

export const validationFailed = (message: string, details?: unknown) =>
  new HttpError(400, 'validation_failed', message, details);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Ids in URLs are positive 32-bit integers; anything else cannot name a row, so it is a 404, not a 400. */
export function parseId(raw: unknown, what = 'resource'): number {
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,9}$/.test(raw)) throw notFound(what);
  const id = Number(raw);
  if (id > 2_147_483_647) throw notFound(what);
  return id;
}
