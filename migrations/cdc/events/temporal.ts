/**
 * Date and time text as Postgres prints it with `DateStyle=ISO` (our sessions set it, see source/connection.ts),
 * turned into Debezium's representations. Pure integer arithmetic on microseconds: JavaScript's Date has only
 * milliseconds and maps years 0–99 to the 1900s.
 */

export class TemporalFormatError extends Error {
  constructor(kind: string, text: string) {
    super(`cannot read ${kind} value ${JSON.stringify(text)}`);
    this.name = 'TemporalFormatError';
  }
}

const MICROS_PER_DAY = 86_400_000_000;

/** Days since 1970-01-01 in the proleptic Gregorian calendar (what Postgres and java.time both use). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

/** `2024-02-29` or `0044-03-15 BC` → days since the epoch. Postgres has no year 0: 1 BC is ISO year 0. */
export function parseDateDays(text: string): number {
  const m = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/.exec(text);
  if (!m) throw new TemporalFormatError('date', text);
  return daysFromCivil(isoYear(m[1], m[4]), Number(m[2]), Number(m[3]));
}

function isoYear(digits: string, bc: string | undefined): number {
  return bc ? 1 - Number(digits) : Number(digits);
}

/** `HH:MM:SS[.ffffff]` → microseconds since midnight (24:00:00 is allowed, as in Postgres). */
export function parseTimeMicros(text: string): number {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new TemporalFormatError('time', text);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 + fractionMicros(m[4]);
}

function fractionMicros(digits: string | undefined): number {
  return digits ? Number(digits.padEnd(6, '0')) : 0;
}

/** `+05`, `-03:30`, `+05:53:28` → seconds east of UTC. */
function offsetSeconds(text: string): number {
  const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(text);
  if (!m) throw new TemporalFormatError('time zone offset', text);
  const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -secs : secs;
}

const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)([+-][\d:]+)?( BC)?$/;

/** `timestamp` / `timestamptz` text → microseconds since the epoch (UTC for timestamptz). */
export function parseTimestampMicros(text: string, withZone: boolean): number {
  const m = TIMESTAMP.exec(text);
  if (!m || Boolean(m[5]) !== withZone) throw new TemporalFormatError(withZone ? 'timestamptz' : 'timestamp', text);
  const days = daysFromCivil(isoYear(m[1], m[6]), Number(m[2]), Number(m[3]));
  const local = days * MICROS_PER_DAY + parseTimeMicros(m[4]);
  return withZone ? local - offsetSeconds(m[5]) * 1_000_000 : local;
}

/** `HH:MM:SS[.ffffff]+TZ` → microseconds since midnight UTC. */
export function parseTimetzMicros(text: string): number {
  const m = /^(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)([+-][\d:]+)$/.exec(text);
  if (!m) throw new TemporalFormatError('timetz', text);
  const utc = parseTimeMicros(m[1]) - offsetSeconds(m[2]) * 1_000_000;
  return ((utc % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** java.time's ISO year: four digits, a sign beyond 9999 or before year 0. */
function formatYear(year: number): string {
  if (year > 9999) return `+${year}`;
  if (year < 0) return `-${pad(-year, 4)}`;
  return pad(year, 4);
}

/**
 * The fraction as java.time prints it: `width` 1–9 pads to exactly that many digits (Debezium passes the column's
 * precision); 0 prints only the digits needed (ISO_OFFSET_DATE_TIME).
 */
function formatFraction(micros: number, width: number): string {
  const digits = pad(micros, 6);
  if (width > 0) return `.${width <= 6 ? digits.slice(0, width) : digits.padEnd(width, '0')}`;
  const trimmed = digits.replace(/0+$/, '');
  return trimmed ? `.${trimmed}` : '';
}

function formatClock(microsOfDay: number, width: number): string {
  const secs = Math.floor(microsOfDay / 1_000_000);
  const frac = microsOfDay - secs * 1_000_000;
  return `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}${formatFraction(frac, width)}`;
}

/** Epoch microseconds → `2024-01-02T03:04:05.123456Z` (Debezium's ZonedTimestamp, always in UTC). */
export function formatUtcTimestamp(epochMicros: number, fractionWidth: number): string {
  const days = Math.floor(epochMicros / MICROS_PER_DAY);
  const { year, month, day } = civilFromDays(days);
  const clock = formatClock(epochMicros - days * MICROS_PER_DAY, fractionWidth);
  return `${formatYear(year)}-${pad(month, 2)}-${pad(day, 2)}T${clock}Z`;
}

/** Microseconds since midnight UTC → `10:15:30.5Z` (Debezium's ZonedTime: ISO_OFFSET_TIME). */
export function formatUtcTime(microsOfDay: number): string {
  return `${formatClock(microsOfDay, 0)}Z`;
}

/** Debezium's MicroDuration averages a month to 365.25 / 12 days. */
const DAYS_PER_MONTH_AVG = 365.25 / 12;

/** ISO-8601 interval text (`IntervalStyle=iso_8601`, e.g. `P1Y2M3DT4H5M6.5S`, `PT-1H`) → microseconds. */
export function parseIntervalMicros(text: string): number {
  const m = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) {
    if (text === 'PT0S') return 0;
    throw new TemporalFormatError('interval', text);
  }
  const n = (i: number) => Number(m[i] ?? 0);
  const days = (n(1) * 12 + n(2)) * DAYS_PER_MONTH_AVG + n(3);
  const minutes = (days * 24 + n(4)) * 60 + n(5);
  return Math.trunc(minutes * 60_000_000 + Math.round(n(6) * 1_000_000));
}
