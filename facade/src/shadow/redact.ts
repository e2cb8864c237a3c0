import type { DiffEntry } from './compare';
import { pathKeys } from './paths';

export const REDACTED = '[redacted]';

/** Headers that carry credentials: never stored, whatever the plan says. */
const SENSITIVE_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** Copying stops after this many nodes: a value is cut to a few hundred characters anyway. */
const NODE_BUDGET = 2000;
const MAX_DEPTH = 32;
const MAX_PATH_CHARS = 500;

interface Redactor {
  names: ReadonlySet<string>;
  /** `"email": "…"` inside text (a non-JSON or cut body shown as a string). */
  inText?: RegExp;
  budget: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function redactText(r: Redactor, s: string): string {
  return r.inText ? s.replace(r.inText, `$1"${REDACTED}"`) : s;
}

/** A copy of `v` with redacted keys masked, bounded in depth and size. */
function redactValue(r: Redactor, v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactText(r, v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH || r.budget <= 0) return '[…]';
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const item of v) {
      if (--r.budget < 0) {
        out.push('[…]');
        break;
      }
      out.push(redactValue(r, item, depth + 1));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
    if (--r.budget < 0) {
      out['…'] = '[…]';
      break;
    }
    out[key] = r.names.has(key.toLowerCase()) ? REDACTED : redactValue(r, item, depth + 1);
  }
  return out;
}

function cut(v: unknown, max: number): unknown {
  if (typeof v === 'string') return v.length > max ? `${v.slice(0, max)}…[truncated, ${v.length} chars]` : v;
  if (v === null || typeof v !== 'object') return v;
  const json = JSON.stringify(v);
  return json.length > max ? `${json.slice(0, max)}…[truncated, ${json.length} chars]` : v;
}

/**
 * Makes diff entries safe to store: values under a field named in `redactFieldNames` (any depth, any case) become
 * `"[redacted]"`, as does a whole entry whose path goes through such a field; long strings and objects are cut with a
 * marker. Redaction runs before cutting, so a preview never shows a sensitive value.
 */
export function redactAndTruncate(diffs: readonly DiffEntry[], redactFieldNames: readonly string[], maxValueChars = 200): DiffEntry[] {
  const names = new Set(redactFieldNames.map((n) => n.toLowerCase()));
  const inText = names.size
    ? new RegExp(`("(?:${[...names].map(escapeRegExp).join('|')})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s]+)`, 'gi')
    : undefined;
  return diffs.map((d) => {
    const keys = pathKeys(d.path).map((k) => k.toLowerCase());
    const sensitive = d.path.startsWith('$headers.') ? SENSITIVE_HEADERS.includes(keys[0]) || names.has(keys[0]) : keys.some((k) => names.has(k));
    const path = d.path.length > MAX_PATH_CHARS ? `${d.path.slice(0, MAX_PATH_CHARS)}…` : d.path;
    const out: DiffEntry = { ...d, path };
    if (sensitive) {
      out.monolith = d.missing === 'monolith' ? null : REDACTED;
      out.service = d.missing === 'service' ? null : REDACTED;
      return out;
    }
    // Each side gets its own budget so a huge monolith value cannot starve the service's.
    out.monolith = cut(redactValue({ names, inText, budget: NODE_BUDGET }, d.monolith, 0), maxValueChars);
    out.service = cut(redactValue({ names, inText, budget: NODE_BUDGET }, d.service, 0), maxValueChars);
    return out;
  });
}
