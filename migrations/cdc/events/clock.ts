/**
 * Wall-clock time in ns for the envelope's ts_ms / ts_us / ts_ns, all three from one reading. Date.now() has only
 * ms; the monotonic clock adds the rest (anchored once, so the three never disagree with each other).
 */
const ANCHOR_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export interface Instant {
  ms: number;
  us: number;
  /** Decimal digits: beyond 2^53, a JavaScript number would round it. */
  ns: string;
}

export function now(): Instant {
  const ns = ANCHOR_NS + process.hrtime.bigint();
  return { ms: Number(ns / 1_000_000n), us: Number(ns / 1000n), ns: ns.toString() };
}

/** An instant known to the µs (a commit time): its ns are the µs × 1000, as in Debezium's source block. */
export function fromMicros(us: number): Instant {
  return { ms: Math.floor(us / 1000), us, ns: `${us}000` };
}
