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

/** Reads the whole body, at most 1 MB; the bytes are kept exactly as sent. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
