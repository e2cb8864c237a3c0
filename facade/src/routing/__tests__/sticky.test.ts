import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { parsePlan } from '../../../../control/plan';
import { JwksVerifier } from '../jwt';
import { StickyUsers } from '../sticky';

function request(headers: Record<string, string>, remoteAddress = '10.0.0.7'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function hsJwt(claims: object, secret: string, alg = 'HS256'): string {
  const head = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const stickiness = (yaml: string) =>
  parsePlan(`version: 1
monolith: { url: http://127.0.0.1:3000, database: m }
contexts: { a: { service: { url: http://127.0.0.1:3001, database: a }, routes: ["GET /a"] } }
stickiness:
${yaml}`).stickiness;

describe('sticky users', () => {
  it('by default takes x-user-id, else the sub of a Bearer JWT (decoded, unverified)', () => {
    const sticky = new StickyUsers(undefined);
    expect(sticky.userOf(request({ 'x-user-id': 'u7', authorization: `Bearer ${hsJwt({ sub: 'alice' }, 'k')}` }), 'a')).toBe('u7');
    expect(sticky.userOf(request({ authorization: `Bearer ${hsJwt({ sub: 'alice' }, 'k')}` }), 'a')).toBe('alice');
    expect(sticky.userOf(request({ authorization: `Token ${hsJwt({ sub: 'alice' }, 'k')}` }), 'a')).toBeUndefined();
    expect(sticky.userOf(request({}), 'a')).toBeUndefined();
    expect(sticky.stats('a')).toEqual({ requests: 4, withoutUser: 2, withoutUserShare: 0.5, fallback: 'none' });
    expect(sticky.stats('b')).toMatchObject({ requests: 0, withoutUserShare: 0 });
  });

  it('with JWT_SECRET and no plan stickiness, only a verified, current HS256 token counts (as before)', () => {
    const secret = 'shh';
    const sticky = new StickyUsers(undefined, { jwtSecret: secret });
    const user = (headers: Record<string, string>) => sticky.userOf(request(headers), 'a');
    expect(user({ authorization: `Bearer ${hsJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 }, secret)}`, 'x-user-id': 'mallory' })).toBe('alice');
    expect(user({ 'x-user-id': 'mallory' })).toBeUndefined();
    expect(user({ authorization: `Bearer ${hsJwt({ sub: 'alice' }, 'other')}` })).toBeUndefined();
    expect(user({ authorization: `Bearer ${hsJwt({ sub: 'alice', exp: 1 }, secret)}` })).toBeUndefined();
    expect(user({ authorization: `Bearer ${hsJwt({ sub: 'alice' }, secret, 'none')}` })).toBeUndefined();
  });

  it('tries the plan sources in order: header, cookie, then a dotted claim under the Token scheme; falls back to the address', () => {
    const sticky = new StickyUsers(
      stickiness(`  from:
    - header: X-Account
    - cookie: sid
    - jwt: { claim: user.id, schemes: [Token], secret: s3cret }
  fallback: address`),
    );
    const user = (headers: Record<string, string>) => sticky.userOf(request(headers), 'a');
    expect(user({ 'x-account': 'acc-1', cookie: 'sid=s-1' })).toBe('acc-1');
    expect(user({ cookie: 'theme=dark; sid=s%2F1; x=y' })).toBe('s/1');
    expect(user({ authorization: `Token ${hsJwt({ user: { id: 42, name: 'Ada' } }, 's3cret')}` })).toBe('42');
    expect(user({ authorization: `token ${hsJwt({ user: { id: 42 } }, 's3cret')}` })).toBe('42');
    // Wrong secret, wrong scheme, claim missing: no user, so the client's address keeps it on one side.
    expect(user({ authorization: `Token ${hsJwt({ user: { id: 42 } }, 'guess')}` })).toBe('address:10.0.0.7');
    expect(user({ authorization: `Bearer ${hsJwt({ user: { id: 42 } }, 's3cret')}` })).toBe('address:10.0.0.7');
    expect(user({ authorization: `Token ${hsJwt({ sub: 'x' }, 's3cret')}` })).toBe('address:10.0.0.7');
    expect(sticky.stats('a')).toEqual({ requests: 7, withoutUser: 3, withoutUserShare: 3 / 7, fallback: 'address' });
  });

  it('verifies RS256 tokens against keys from a JWKS URL, fetched again when a new key id appears', async () => {
    const keys = [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('rsa', { modulusLength: 2048 })];
    let served = [{ ...keys[0].publicKey.export({ format: 'jwk' }), kid: 'k0', use: 'sig' }];
    const server = http.createServer((_req, res) => res.end(JSON.stringify({ keys: served })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const rs = (claims: object, kid: string, key = keys[Number(kid.slice(1))].privateKey) => {
      const head = `${enc({ alg: 'RS256', kid })}.${enc(claims)}`;
      return `${head}.${sign('sha256', Buffer.from(head), key).toString('base64url')}`;
    };
    const sticky = new StickyUsers(stickiness(`  from: [ { jwt: { claim: sub, jwksUrl: "${url}" } } ]`));
    const jwks = new JwksVerifier(url);
    try {
      const user = (token: string) => sticky.userOf(request({ authorization: `Bearer ${token}` }), 'a');
      // The first fetch runs at start; routing never waits for it.
      for (let i = 0; i < 100 && user(rs({ sub: 'alice' }, 'k0')) === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      expect(user(rs({ sub: 'alice' }, 'k0'))).toBe('alice');
      expect(user(rs({ sub: 'alice' }, 'k0', keys[1].privateKey))).toBeUndefined();
      expect(user(hsJwt({ sub: 'alice' }, 'k0'))).toBeUndefined();
      // Rotation: a key published later is used once fetched.
      await jwks.refresh();
      served = [...served, { ...keys[1].publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }];
      expect(jwks.payload(rs({ sub: 'bob' }, 'k1'))).toBeUndefined();
      await jwks.refresh();
      expect(jwks.payload(rs({ sub: 'bob' }, 'k1'))).toMatchObject({ sub: 'bob' });
      expect(jwks.payload(rs({ sub: 'alice' }, 'k0'))).toMatchObject({ sub: 'alice' });
    } finally {
      sticky.close();
      jwks.close();
      await new Promise((r) => server.close(r));
    }
  });
});
