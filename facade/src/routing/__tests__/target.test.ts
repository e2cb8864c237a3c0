import type { IncomingMessage } from 'node:http';
import { checkTarget } from '../target';

const target = (url: string) => {
  const req = { url } as IncomingMessage;
  const check = checkTarget(req);
  return check.ok ? { match: check.path, forwarded: req.url } : { refused: check.message };
};

describe('request target check', () => {
  it('leaves an ordinary path alone and matches it lower-case', () => {
    expect(target('/api/Users/1?email=Ada@Example.com')).toEqual({ match: '/api/users/1', forwarded: '/api/Users/1?email=Ada@Example.com' });
    expect(target('/api/users/a%40b.example;v=1')).toEqual({ match: '/api/users/a%40b.example;v=1', forwarded: '/api/users/a%40b.example;v=1' });
    expect(target('/api/users/%C3%A9')).toEqual({ match: '/api/users/%c3%a9', forwarded: '/api/users/%C3%A9' });
  });

  it('rewrites absolute-form targets and repeated slashes, for matching and for the upstream alike', () => {
    expect(target('http://evil.example/api/payments/1')).toEqual({ match: '/api/payments/1', forwarded: '/api/payments/1' });
    expect(target('//api//payments/1?next=http://x')).toEqual({ match: '/api/payments/1', forwarded: '/api/payments/1?next=http://x' });
    expect(target('http://evil.example')).toEqual({ match: '/', forwarded: '/' });
  });

  it.each([
    ['a fragment', '/api/users#x'],
    ['a fragment after dot segments', '/api/users/1#/../../x'],
    ['a fragment in the query', '/api/users?limit=1#x'],
    ['a backslash', '/api/users\\1'],
    ['a backslash in the query', '/api/users?x=\\'],
    ['a "." segment', '/api/./users'],
    ['a ".." segment', '/api/x/../users/1'],
    ['a trailing ".."', '/api/users/..'],
    ['a percent-encoded dot segment', '/api/%2e%2E/users'],
    ['a percent-encoded slash', '/api/users%2F1'],
    ['a percent-encoded backslash', '/api/users%5c1'],
    ['a percent-encoded letter', '/api/%75sers'],
    ['a percent-encoded digit', '/api/users/%31'],
    ['a malformed escape', '/api/users/%zz'],
    ['an escape of invalid UTF-8', '/api/users/%ff'],
    ['raw non-ASCII', '/api/usérs'],
    ['a control character', '/api/users\u0001'],
    ['an asterisk-form target', '*'],
    ['a relative target', 'api/users'],
  ])('refuses %s', (_what, url) => {
    expect(target(url)).toEqual({ refused: expect.any(String) });
  });
});
