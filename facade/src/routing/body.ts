import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super('request body exceeds 1 MB');
    this.name = 'BodyTooLargeError';
  }
}

/** The declared length is over the limit: refuse before reading a byte. */
export function declaredTooLarge(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined && Number(cl) > MAX_BODY_BYTES;
}

/** Whether the request has a body whose size is not declared up front (chunked). */
export function hasUndeclaredBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined;
}

/**
 * A GET or HEAD has no use for a body, and one the facade forwarded only in part would leave the upstream waiting
 * for the rest: refused, whatever the route and stage, so every path treats it the same.
 */
export function bodyOnSafeMethod(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const cl = req.headers['content-length'];
  if ((cl !== undefined && Number(cl) !== 0) || req.headers['transfer-encoding'] !== undefined) return `a ${req.method} request must not have a body`;
  return undefined;
}

/** The body did not finish arriving within the upstream timeout (a chunked body that never ends). */
export class BodyTimeoutError extends Error {
  constructor(ms: number) {
    super(`the request body did not arrive within ${ms} ms`);
    this.name = 'BodyTimeoutError';
  }
}

/** Reads the whole body, at most 1 MB and for at most `timeoutMs`; the bytes are kept exactly as sent. */
export function readBody(req: IncomingMessage, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return stop(new BodyTooLargeError());
      chunks.push(chunk);
    };
    const timer = setTimeout(() => stop(new BodyTimeoutError(timeoutMs)), timeoutMs);
    req.on('data', onData);
    req.once('end', () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
