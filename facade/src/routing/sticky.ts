import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../../lib/logger';
import type { Stickiness, StickySource } from '../../../control/plan';
import { hs256, JwksVerifier, unverified, type JwtVerifier } from './jwt';

/** Without `stickiness` in the plan: `x-user-id`, else the `sub` of a Bearer JWT. */
export function defaultStickiness(jwtSecret?: string): Stickiness {
  // With JWT_SECRET only a verified token counts, as before plans could say so: a bare header would let any client
  // pick its side of the canary.
  if (jwtSecret) return { from: [{ jwt: { claim: 'sub', schemes: ['Bearer'], secret: jwtSecret } }], fallback: 'none' };
  return { from: [{ header: 'x-user-id' }, { jwt: { claim: 'sub', schemes: ['Bearer'] } }], fallback: 'none' };
}

type Extract = (req: IncomingMessage) => string | undefined;

const MAX_ID = 256;
const usable = (v: unknown): string | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID ? v : undefined;
};

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    const raw = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

function claimAt(payload: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = payload;
  for (const key of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * The sticky user of a request, from the plan's `stickiness` sources in order (the first that yields a value wins),
 * and per context how many routed requests had none — a canary only keeps users on one side if it knows them.
 */
export class StickyUsers {
  private readonly sources: Extract[];
  private readonly closers: (() => void)[] = [];
  private readonly counts = new Map<string, { requests: number; withoutUser: number }>();
  readonly fallback: Stickiness['fallback'];

  constructor(config: Stickiness | undefined, options: { jwtSecret?: string; logger?: Logger } = {}) {
    const plan = config ?? defaultStickiness(options.jwtSecret);
    this.fallback = plan.fallback;
    this.sources = plan.from.map((s) => this.source(s, options));
  }

  private source(s: StickySource, options: { jwtSecret?: string; logger?: Logger }): Extract {
    if (s.header !== undefined) {
      const name = s.header;
      return (req) => usable(req.headers[name]);
    }
    if (s.cookie !== undefined) {
      const name = s.cookie;
      return (req) => usable(cookieValue(req.headers.cookie, name));
    }
    const jwt = s.jwt!;
    let check: JwtVerifier;
    if (jwt.jwksUrl) {
      const jwks = new JwksVerifier(jwt.jwksUrl, options.logger);
      this.closers.push(() => jwks.close());
      check = jwks;
    } else {
      const secret = jwt.secret ?? options.jwtSecret;
      check = secret ? hs256(secret) : unverified();
    }
    const schemes = new Set(jwt.schemes.map((x) => x.toLowerCase()));
    const path = jwt.claim.split('.');
    return (req) => {
      const auth = req.headers.authorization;
      if (typeof auth !== 'string') return undefined;
      const space = auth.indexOf(' ');
      if (space < 0 || !schemes.has(auth.slice(0, space).toLowerCase())) return undefined;
      const payload = check.payload(auth.slice(space + 1).trim());
      return payload ? usable(claimAt(payload, path)) : undefined;
    };
  }

  /** The user for `context`'s rollout; counted, so status can show how many requests had none. */
  userOf(req: IncomingMessage, context: string): string | undefined {
    let user: string | undefined;
    for (const source of this.sources) {
      user = source(req);
      if (user !== undefined) break;
    }
    let c = this.counts.get(context);
    if (!c) this.counts.set(context, (c = { requests: 0, withoutUser: 0 }));
    c.requests += 1;
    if (user !== undefined) return user;
    c.withoutUser += 1;
    // The address keeps one client on one side; prefixed so it can never equal a user id.
    return this.fallback === 'address' && req.socket?.remoteAddress ? `address:${req.socket.remoteAddress}` : undefined;
  }

  /** Routed requests of `context` since the facade started, and the share that had no sticky user. */
  stats(context: string): { requests: number; withoutUser: number; withoutUserShare: number; fallback: Stickiness['fallback'] } {
    const c = this.counts.get(context) ?? { requests: 0, withoutUser: 0 };
    return { ...c, withoutUserShare: c.requests ? c.withoutUser / c.requests : 0, fallback: this.fallback };
  }

  close(): void {
    for (const close of this.closers) close();
  }
}
