import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { redactUrl, type Logger } from '../logger';
import { HttpError, errorBody } from './errors';

export const REQUEST_ID = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

/**
 * Accepts the caller's request id when it is safe to log and echo, otherwise makes one; logs one line per request.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers[REQUEST_ID];
    const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    req.log = logger.child({ requestId: id });
    res.setHeader(REQUEST_ID, id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info({ method: req.method, path: redactUrl(req.originalUrl), status: res.statusCode, ms }, 'request');
    });
    next();
  };
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** JSON bodies up to 1 MB; parse failures become 4xx JSON errors in `errorHandler`. */
export function jsonBody(): RequestHandler {
  return express.json({ limit: MAX_BODY_BYTES, strict: false, type: ['application/json', 'application/*+json'], verify: utf8Only, reviver: storableText });
}

/**
 * Invalid UTF-8 would be decoded into U+FFFD and stored altered; refuse it instead. Only for UTF-8 bodies: body-parser
 * also accepts JSON in UTF-16 and UTF-32.
 */
function utf8Only(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(body)) {
    throw Object.assign(new Error('request body is not valid UTF-8'), { status: 400, type: 'encoding.invalid' });
  }
}

/**
 * Postgres text cannot hold U+0000 (the ORM would store a backslash and a zero instead) and a lone surrogate is stored
 * as U+FFFD: either way the row would not say what the client sent, so such a body is invalid JSON for us.
 */
function storableText(key: string, value: unknown): unknown {
  if (!storable(key) || (typeof value === 'string' && !storable(value))) throw new SyntaxError('string with U+0000 or a lone surrogate');
  return value;
}

// NUL, or a surrogate without its pair (String#isWellFormed is ES2024; the lib stays at what Node 20 fully has).
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const storable = (text: string) => !UNSTORABLE.test(text);

/** body-parser's error types, mapped to the contract's codes. */
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'request body is not valid JSON, or has a string with U+0000 or a lone surrogate' },
  'encoding.invalid': { status: 400, code: 'invalid_encoding', message: 'request body is not valid UTF-8' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'request body exceeds 1 MB' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'unsupported content encoding' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'unsupported charset' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'request aborted by the client' },
  'request.size.invalid': { status: 400, code: 'invalid_body', message: 'request size did not match content-length' },
  'stream.encoding.set': { status: 400, code: 'invalid_body', message: 'request body could not be read' },
};

const formatBytes = (n: number) => (n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KB` : `${n} bytes`);

/** zlib (`Z_DATA_ERROR`, `Z_BUF_ERROR`) and brotli (`ERR__ERROR_FORMAT_…`) failures while inflating a body. */
const isDecompressionError = (err: { code?: unknown } | undefined) => typeof err?.code === 'string' && /^(Z_|ERR__ERROR_)/.test(err.code);

/**
 * No CORS anywhere, so OPTIONS has nothing to offer: 405 in the contract's shape (Express would otherwise answer
 * each router's OPTIONS itself, 200 text/plain).
 */
export const refuseOptions: RequestHandler = (req, res, next) => {
  if (req.method !== 'OPTIONS') {
    next();
    return;
  }
  res.status(405).json(errorBody('method_not_allowed', 'OPTIONS is not supported: this API allows no cross-origin requests'));
};

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('not_found', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const log = req.log ?? logger;
    if (res.headersSent) {
      log.error({ err }, 'error after response started');
      res.destroy();
      return;
    }
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      res.status(err.status).json(errorBody(err.code, err.message, err.details));
      return;
    }
    const bodyError = typeof err?.type === 'string' ? BODY_ERRORS[err.type] : undefined;
    if (bodyError) {
      // The limit is the parser's own (the login form's is 4 KB, not the JSON body's 1 MB).
      const message = err.type === 'entity.too.large' && typeof err.limit === 'number' ? `request body exceeds ${formatBytes(err.limit)}` : bodyError.message;
      res.status(bodyError.status).json(errorBody(bodyError.code, message));
      return;
    }
    if (isDecompressionError(err)) {
      res.status(400).json(errorBody('invalid_content_encoding', `request body is not valid ${String(req.headers['content-encoding'])} as its Content-Encoding says`));
      return;
    }
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json(errorBody('bad_request', String(err.message ?? 'bad request')));
      return;
    }
    log.error({ err }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'internal error'));
  };
}
