import http from 'node:http';
import type { Upstream } from '../upstreams/upstream';
import type { Captured } from './compare';

/** Bodies larger than this are compared on their first bytes only (marked truncated). */
export const MAX_CAPTURE_BYTES = 1024 * 1024;

/** Copies a response's bytes as they stream by, without slowing the stream down. */
export function tapResponse(res: http.IncomingMessage): Promise<Captured> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    res.on('data', (chunk: Buffer) => {
      if (size + chunk.length > MAX_CAPTURE_BYTES) {
        truncated = true;
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size), truncated });
    res.once('end', done);
    res.once('error', done);
    res.once('aborted', done);
  });
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate', 'host', 'content-length']);

export class MirrorTimeoutError extends Error {
  constructor(ms: number) {
    super(`mirror did not answer within ${ms} ms`);
    this.name = 'MirrorTimeoutError';
  }
}

/**
 * Sends a copy of a request (same method, path, body bytes and end-to-end headers) to an upstream and captures
 * the answer. Used for the shadow mirror (with the dry-run header) and for noise sampling.
 */
export function sendCopy(
  target: Upstream,
  method: string,
  path: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
  extraHeaders: Record<string, string>,
  timeoutMs: number,
): Promise<Captured> {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  for (const k in extraHeaders) out[k] = extraHeaders[k];
  out.host = target.url.host;
  if (body.length > 0 || (method !== 'GET' && method !== 'HEAD')) out['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname: target.url.hostname, port: target.url.port, method, path, headers: out, agent: target.agent },
      (res) => {
        tapResponse(res).then(resolve, reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new MirrorTimeoutError(timeoutMs)));
    req.once('error', reject);
    req.end(body);
  });
}
