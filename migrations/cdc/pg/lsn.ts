/**
 * Postgres log sequence numbers. On the wire and in SQL they are `XXXXXXXX/XXXXXXXX` (two hex halves); Debezium
 * writes them as one decimal number. A bigint keeps the arithmetic exact beyond 2^53.
 */
export type Lsn = bigint;

export class InvalidLsnError extends Error {
  constructor(text: string) {
    super(`not a Postgres LSN: ${JSON.stringify(text)}`);
    this.name = 'InvalidLsnError';
  }
}

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new InvalidLsnError(text);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  const hi = (lsn >> 32n).toString(16).toUpperCase();
  const lo = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${hi}/${lo}`;
}

/** Debezium's `source.lsn`: a JSON number. Exact up to 8 PiB of WAL, far past any real server. */
export function lsnToNumber(lsn: Lsn): number {
  return Number(lsn);
}

export const maxLsn = (a: Lsn, b: Lsn): Lsn => (a > b ? a : b);
