import { z } from 'zod';

/** Edit distance, for naming the key a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The valid key closest to `key`, if it is close enough to be a typo. */
export function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))) return best;
  return known.find((k) => k.length > 2 && key.length > 2 && (k.startsWith(key) || key.startsWith(k)));
}

/**
 * An object that rejects unknown keys, naming the nearest valid one: a misspelt `shadow.write` must fail loudly, not
 * silently leave writes unmirrored. The message has one line per unknown key, in the order of the issue's `keys`,
 * so `parseConfig` can report one error per key.
 */
export function closed<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((k) => {
          const near = nearest(k, known);
          return near ? `unknown key (did you mean "${near}"?)` : `unknown key (valid keys: ${known.join(', ')})`;
        })
        .join('\n');
    },
  });
}
