import type { DecimalMode } from './options';

/**
 * numeric, decimal and money values as Debezium 3.6's PostgresValueConverter writes them, from Postgres's text.
 * - `precise`: a fixed scale gives base64 of the unscaled value's big-endian two's complement (Java's
 *   BigInteger.toByteArray, so the shortest form); numeric without a scale gives `{"scale", "value"}` with trailing
 *   zeros stripped; NaN and ±Infinity have no representation and become null (Debezium logs a warning).
 * - `string`: the plain decimal text at the column's scale; NaN → `"NAN"`, ±Infinity → `"POSITIVE_INFINITY"` /
 *   `"NEGATIVE_INFINITY"` (the names of Debezium's SpecialValue enum).
 * - `double`: a number; NaN and ±Infinity as the quoted strings Jackson writes.
 */

export class DecimalFormatError extends Error {
  constructor(text: string) {
    super(`cannot read decimal value ${JSON.stringify(text)}`);
    this.name = 'DecimalFormatError';
  }
}

export interface DecimalParts {
  unscaled: bigint;
  scale: number;
}

type Special = 'NaN' | 'Infinity' | '-Infinity';

const SPECIAL_STRING: Record<Special, string> = { NaN: 'NAN', Infinity: 'POSITIVE_INFINITY', '-Infinity': 'NEGATIVE_INFINITY' };

/** `-1234.50` → {unscaled: -123450n, scale: 2}. */
export function parseDecimal(text: string): DecimalParts {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (!m[2] && !m[3])) throw new DecimalFormatError(text);
  const fraction = m[3] ?? '';
  const unscaled = BigInt(`${m[2] || '0'}${fraction}`);
  return { unscaled: m[1] ? -unscaled : unscaled, scale: fraction.length };
}

export function rescale(d: DecimalParts, scale: number): DecimalParts {
  if (scale >= d.scale) return { unscaled: d.unscaled * 10n ** BigInt(scale - d.scale), scale };
  // Postgres already rounded to the column's scale; only a typmod change mid-stream could get here.
  const divisor = 10n ** BigInt(d.scale - scale);
  const half = divisor / 2n;
  const q = d.unscaled / divisor;
  const r = d.unscaled % divisor;
  const up = r >= half || -r >= half ? (d.unscaled < 0n ? -1n : 1n) : 0n;
  return { unscaled: q + up, scale };
}

/** BigDecimal.stripTrailingZeros, never below scale 0 (Debezium sets a negative scale back to 0). */
function stripTrailingZeros(d: DecimalParts): DecimalParts {
  let { unscaled, scale } = d;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  return { unscaled, scale };
}

/** BigDecimal.toPlainString. */
export function formatDecimal(d: DecimalParts): string {
  const negative = d.unscaled < 0n;
  const digits = (negative ? -d.unscaled : d.unscaled).toString();
  if (d.scale === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(d.scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -d.scale)}.${padded.slice(-d.scale)}`;
}

/** BigInteger.toByteArray: big-endian two's complement in the fewest bytes that keep the sign. */
export function twosComplement(n: bigint): Buffer {
  let bytes = 1;
  while (n < -(1n << BigInt(8 * bytes - 1)) || n >= 1n << BigInt(8 * bytes - 1)) bytes++;
  const value = n < 0n ? (1n << BigInt(8 * bytes)) + n : n;
  return Buffer.from(value.toString(16).padStart(bytes * 2, '0'), 'hex');
}

export function fromTwosComplement(bytes: Buffer): bigint {
  if (!bytes.length) return 0n;
  const value = BigInt(`0x${bytes.toString('hex')}`);
  return bytes[0] & 0x80 ? value - (1n << BigInt(bytes.length * 8)) : value;
}

/** Debezium's VariableScaleDecimal struct, for numeric without a declared scale in precise mode. */
export interface VariableScaleDecimal {
  scale: number;
  value: string;
}

export function isVariableScaleDecimal(v: unknown): v is VariableScaleDecimal {
  return typeof v === 'object' && v !== null && typeof (v as VariableScaleDecimal).scale === 'number' && typeof (v as VariableScaleDecimal).value === 'string';
}

/** twosComplement for a safe integer: the common case without BigInt, which costs several µs per value. */
function smallTwosComplement(n: number): Buffer {
  let bytes = 1;
  while (n < -(2 ** (8 * bytes - 1)) || n >= 2 ** (8 * bytes - 1)) bytes++;
  const out = Buffer.alloc(bytes);
  let v = n < 0 ? 2 ** (8 * bytes) + n : n;
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

const SMALL_FIXED = /^(-?)(\d+)(?:\.(\d*))?$/;

/** Precise mode at a fixed scale when the unscaled value is a safe integer; null otherwise. */
function preciseSmall(text: string, scale: number): string | null {
  const m = SMALL_FIXED.exec(text);
  if (!m) return null;
  const fraction = m[3] ?? '';
  if (fraction.length > scale || m[2].length + scale > 15) return null;
  const unscaled = Number(`${m[1]}${m[2]}${fraction.padEnd(scale, '0')}`);
  return smallTwosComplement(unscaled === 0 ? 0 : unscaled).toString('base64');
}

/** `scale` null for numeric without a declared scale. */
export function encodeDecimal(text: string, scale: number | null, mode: DecimalMode): unknown {
  if (mode === 'precise' && scale !== null) {
    const small = preciseSmall(text, scale);
    if (small !== null) return small;
  }
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
    if (mode === 'string') return SPECIAL_STRING[text];
    return mode === 'double' ? text : null;
  }
  const parsed = parseDecimal(text);
  const d = scale === null ? parsed : rescale(parsed, scale);
  if (mode === 'double') return Number(formatDecimal(d));
  if (mode === 'string') return formatDecimal(d);
  if (scale !== null) return twosComplement(d.unscaled).toString('base64');
  const stripped = stripTrailingZeros(d);
  return { scale: stripped.scale, value: twosComplement(stripped.unscaled).toString('base64') };
}

/** Debezium's `money.fraction.digits` default. */
export const MONEY_SCALE = 2;

/** money as Postgres prints it with lc_monetary=C (`$1,234.50`, `-$0.99`), written like numeric(…, 2). */
export function encodeMoney(text: string, mode: DecimalMode): unknown {
  return encodeDecimal(text.replace(/[$,\s]/g, ''), MONEY_SCALE, mode);
}

/**
 * A Debezium decimal back to Postgres's text: `{"scale","value"}`, base64 with the given scale (precise), a
 * number (double), or a string (string mode, including its special-value names).
 */
export function decimalText(value: unknown, scale: number | null): unknown {
  if (isVariableScaleDecimal(value)) return formatDecimal({ unscaled: fromTwosComplement(Buffer.from(value.value, 'base64')), scale: value.scale });
  if (typeof value !== 'string') return value;
  if (value === 'NAN') return 'NaN';
  if (value === 'POSITIVE_INFINITY') return 'Infinity';
  if (value === 'NEGATIVE_INFINITY') return '-Infinity';
  if (scale === null) return value;
  return formatDecimal({ unscaled: fromTwosComplement(Buffer.from(value, 'base64')), scale });
}
