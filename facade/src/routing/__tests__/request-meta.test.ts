import type { IncomingMessage } from 'node:http';
import { ensureRequestId, ensureTraceparent, stripStranglerHeaders } from '../request-meta';

function fakeRequest(headers: Record<string, string>): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, rawHeaders } as unknown as IncomingMessage;
}

describe('request metadata on the hot path', () => {
  it('strips every x-strangler-* header, whatever its case, and keeps the rest', () => {
    const req = fakeRequest({ 'X-Strangler-Shadow': '1', 'x-strangler-upstream': 'users', 'x-user-id': 'u1', 'content-type': 'application/json' });
    stripStranglerHeaders(req);
    expect(req.headers).toEqual({ 'x-user-id': 'u1', 'content-type': 'application/json' });
  });

  it('keeps a safe request id, replaces an unsafe one', () => {
    expect(ensureRequestId(fakeRequest({ 'x-request-id': 'abc-1' }))).toBe('abc-1');
    const bad = fakeRequest({ 'x-request-id': 'evil\nheader' });
    expect(ensureRequestId(bad)).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a valid traceparent and starts one otherwise', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const kept = fakeRequest({ traceparent: tp });
    ensureTraceparent(kept);
    expect(kept.headers.traceparent).toBe(tp);
    const made = fakeRequest({ traceparent: 'garbage' });
    ensureTraceparent(made);
    expect(made.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
