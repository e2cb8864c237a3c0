import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Pool, PoolClient } from 'pg';

/**
 * The little HTTP plumbing the library's three apps share. Deliberately its own: the library plays a team's app
 * that knows nothing of the toolkit, so it uses only Express and pg.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const invalid = (message: string) => new ApiError(400, 'validation_failed', message);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id in a URL: anything but a UUID cannot name a row, so it is a 404, not a 400. */
export function uuidParam(req: Request, what: string): string {
  const id = String(req.params.id);
  if (!UUID.test(id)) throw notFound(what);
  return id.toLowerCase();
}

export function uuidField(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || !UUID.test(v)) throw invalid(`${field} must be a UUID`);
  return v.toLowerCase();
}

export function text(body: Record<string, unknown>, field: string, optional = false): string | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > 200) throw invalid(`${field} must be a non-empty string of at most 200 characters`);
  return v;
}

export const bodyOf = (req: Request): Record<string, unknown> => {
  if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) throw invalid('the body must be a JSON object');
  return req.body as Record<string, unknown>;
};

/**
 * Runs a request's queries in one transaction. With `x-strangler-shadow: 1` (the facade's dry-run marker while the
 * context is shadowed) everything is rolled back: the service answers as it would have and keeps nothing.
 */
export async function inTransaction<T>(pool: Pool, req: Request, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query(req.headers['x-strangler-shadow'] === '1' ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}

type Handler = (req: Request, res: Response) => Promise<void>;
export const route = (h: Handler): RequestHandler => (req, res, next) => void h(req, res).catch(next);

export function createApp(pool: Pool, mount: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '1mb' }));
  app.get('/health', route(async (_req, res) => {
    await pool.query('SELECT 1');
    res.json({ status: 'ok' });
  }));
  mount(app);
  app.use((req, res) => res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } }));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (err instanceof ApiError) return void res.status(err.status).json({ error: { code: err.code, message: err.message } });
    if ((err as { type?: string }).type === 'entity.parse.failed') return void res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
    if ((err as { code?: string }).code === '23505') return void res.status(409).json({ error: { code: 'conflict', message: 'already exists' } });
    console.error(err);
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error' } });
  };
  app.use(onError);
  return app;
}

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
