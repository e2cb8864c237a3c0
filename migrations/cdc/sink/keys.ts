import type { Row } from '../events/envelope';

/** Key objects as map keys: sorted fields, so `{a, b}` from an event and `{b, a}` from jsonb compare equal. */
export function canonicalKey(key: Row): string {
  return JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]));
}
