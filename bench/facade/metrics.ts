/** The facade's Prometheus counters the rows report on: how a canary split, and how shadow comparisons ended. */
export interface FacadeCounters {
  /** `context/upstream` → requests answered. */
  requests: Map<string, number>;
  /** `context/outcome` → comparisons (matched, diff, error, skipped). */
  shadow: Map<string, number>;
}

const LINE = /^(strangler_facade_requests_total|strangler_shadow_comparisons_total)\{([^}]*)\}\s+(\S+)$/;

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

export function parseCounters(exposition: string): FacadeCounters {
  const counters: FacadeCounters = { requests: new Map(), shadow: new Map() };
  for (const line of exposition.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const l = labels(m[2]);
    const value = Number(m[3]);
    const [map, key] = m[1] === 'strangler_facade_requests_total' ? [counters.requests, `${l.context}/${l.upstream}`] : [counters.shadow, `${l.context}/${l.outcome}`];
    map.set(key, (map.get(key) ?? 0) + value);
  }
  return counters;
}

export async function scrapeCounters(facadeUrl: string): Promise<FacadeCounters> {
  const res = await fetch(`${facadeUrl}/_strangler/metrics`, { signal: AbortSignal.timeout(5000) });
  return parseCounters(await res.text());
}

/** What happened between two scrapes, for the keys that start with `prefix` (a context name and a slash). */
export function delta(before: Map<string, number>, after: Map<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!key.startsWith(prefix)) continue;
    const d = value - (before.get(key) ?? 0);
    if (d > 0) out[key.slice(prefix.length)] = d;
  }
  return out;
}
