import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ensureRequestId, ensureTraceparent, stripStranglerHeaders, userIdOf } from '../request-meta';

function fakeRequest(headers: Record<string, string>): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: lower, rawHeaders } as unknown as IncomingMessage;
}

function jwt(claims: object, secret: string, alg = 'HS256'): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
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

  it('takes the user from x-user-id, or only from a verified HS256 JWT when a secret is configured', () => {
    expect(userIdOf(fakeRequest({ 'x-user-id': 'u7' }))).toBe('u7');
    expect(userIdOf(fakeRequest({}))).toBeUndefined();
    const secret = 'shh';
    const good = jwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 }, secret);
    expect(userIdOf(fakeRequest({ authorization: `Bearer ${good}`, 'x-user-id': 'mallory' }), secret)).toBe('alice');
    expect(userIdOf(fakeRequest({ 'x-user-id': 'mallory' }), secret)).toBeUndefined();
    expect(userIdOf(fakeRequest({ authorization: `Bearer ${jwt({ sub: 'alice' }, 'other')}` }), secret)).toBeUndefined();
    expect(userIdOf(fakeRequest({ authorization: `Bearer ${jwt({ sub: 'alice', exp: 1 }, secret)}` }), secret)).toBeUndefined();
    expect(userIdOf(fakeRequest({ authorization: `Bearer ${jwt({ sub: 'alice' }, secret, 'none')}` }), secret)).toBeUndefined();
  });
});
