import { constants, createHmac, createPublicKey, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from '../../../lib/logger';

/**
 * JWT checks for stickiness only: the facade never authorizes anything with a token, it only needs to know that the
 * user a canary keeps on one side is the one the token names. Without a secret or key set the payload is decoded
 * unverified, so a client could pick its own side (not its identity: the upstream still checks the token).
 */
export interface JwtVerifier {
  /** The payload when the signature (if checked) and `exp`/`nbf` hold, else undefined. */
  payload(token: string): Record<string, unknown> | undefined;
}

function decode(part: string): Record<string, unknown> | undefined {
  const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function current(claims: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!claims) return undefined;
  const now = Date.now() / 1000;
  if (typeof claims.exp === 'number' && claims.exp < now) return undefined;
  if (typeof claims.nbf === 'number' && claims.nbf > now) return undefined;
  return claims;
}

type Check = (header: Record<string, unknown>, signed: string, signature: Buffer) => boolean;

function verifier(check: Check): JwtVerifier {
  return {
    payload(token) {
      const parts = token.split('.');
      if (parts.length !== 3) return undefined;
      try {
        const header = decode(parts[0]);
        if (!header || !check(header, `${parts[0]}.${parts[1]}`, Buffer.from(parts[2], 'base64url'))) return undefined;
        return current(decode(parts[1]));
      } catch {
        return undefined;
      }
    },
  };
}

export const unverified = (): JwtVerifier => verifier(() => true);

export function hs256(secret: string): JwtVerifier {
  return verifier((header, signed, signature) => {
    if (header.alg !== 'HS256') return false;
    const expected = createHmac('sha256', secret).update(signed).digest();
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  });
}

const ASYMMETRIC: Record<string, (key: KeyObject, signed: string, signature: Buffer) => boolean> = {
  RS256: (key, signed, sig) => verify('sha256', Buffer.from(signed), key, sig),
  PS256: (key, signed, sig) => verify('sha256', Buffer.from(signed), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig),
  ES256: (key, signed, sig) => verify('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' }, sig),
};

/**
 * Keys from a JWKS URL, fetched at start and every 10 minutes, and again (at most every 30 s) when a token names a
 * key id not yet known — key rotation. Routing never waits for a fetch: until the keys are in, a token yields no
 * user, and the request is served with the stickiness fallback.
 */
export class JwksVerifier implements JwtVerifier {
  private keys = new Map<string, KeyObject>();
  private lastFetch = 0;
  private fetching: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly check: JwtVerifier;

  constructor(
    private readonly url: string,
    private readonly logger?: Logger,
  ) {
    this.check = verifier((header, signed, signature) => {
      const alg = typeof header.alg === 'string' ? ASYMMETRIC[header.alg] : undefined;
      if (!alg) return false;
      const kid = typeof header.kid === 'string' ? header.kid : '';
      const key = this.keys.get(kid) ?? (kid === '' && this.keys.size === 1 ? [...this.keys.values()][0] : undefined);
      if (!key) {
        if (Date.now() - this.lastFetch > 30_000) void this.refresh();
        return false;
      }
      return alg(key, signed, signature);
    });
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), 600_000).unref();
  }

  payload(token: string): Record<string, unknown> | undefined {
    return this.check.payload(token);
  }

  /** Resolves once a fetch has finished (successfully or not). */
  refresh(): Promise<void> {
    this.fetching ??= (async () => {
      this.lastFetch = Date.now();
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const { keys } = (await res.json()) as { keys?: (JsonWebKey & { kid?: string; use?: string })[] };
        const next = new Map<string, KeyObject>();
        for (const jwk of keys ?? []) {
          if (jwk.use && jwk.use !== 'sig') continue;
          try {
            next.set(jwk.kid ?? '', createPublicKey({ key: jwk, format: 'jwk' }));
          } catch {
            // A key type Node cannot read is skipped; tokens signed with it yield no user.
          }
        }
        this.keys = next;
      } catch (err) {
        this.logger?.warn({ url: this.url, err: (err as Error).message }, 'stickiness: JWKS fetch failed; tokens yield no user until it succeeds');
      }
    })().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
