/**
 * JSON paths as diffs and plan rules write them: `$.items[2].sku`, `$.items[*].createdAt`, `$.*.id`, `$..updatedAt`,
 * `$["odd key"]`, plus the response parts outside the body: `$status`, `$headers.<name>`, `$body`.
 */

export type Segment = string | number;

export type PatternSeg =
  | { t: 'key'; key: string }
  | { t: 'anyKey' }
  | { t: 'index'; index: number }
  | { t: 'anyIndex' }
  /** `..`: any number of levels (zero included) before the next segment. */
  | { t: 'descend' };

/** A path of the response outside the JSON body; compared as a whole, never walked. */
export type SpecialPath = '$status' | '$body' | `$headers.${string}`;

export type ParsedPattern = { special: SpecialPath; segs?: undefined } | { special?: undefined; segs: PatternSeg[] };

export class PathSyntaxError extends Error {
  constructor(source: string, why: string) {
    super(`bad JSON path ${JSON.stringify(source)}: ${why} (expected e.g. "$.items[*].createdAt", "$.*.id", "$status" or "$headers.etag")`);
    this.name = 'PathSyntaxError';
  }
}

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/** `.key` when it reads unambiguously, `["key"]` otherwise, so every concrete path parses back to its segments. */
export function formatKey(key: string): string {
  return PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

export function formatPath(segs: readonly Segment[], normalized = false): string {
  let out = '$';
  for (const s of segs) out += typeof s === 'number' ? (normalized ? '[*]' : `[${s}]`) : formatKey(s);
  return out;
}

/** Parses a pattern (or a concrete path, which is a pattern without wildcards). */
export function parsePattern(source: string): ParsedPattern {
  const src = source.trim();
  if (src === '$status' || src === '$body') return { special: src };
  if (src.startsWith('$headers.')) {
    const name = src.slice('$headers.'.length).toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new PathSyntaxError(source, 'not a header name');
    return { special: `$headers.${name}` };
  }
  if (src[0] !== '$') throw new PathSyntaxError(source, 'must start with "$"');
  const segs: PatternSeg[] = [];
  let i = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '.' && src[i + 1] === '.') {
      if (segs[segs.length - 1]?.t === 'descend') throw new PathSyntaxError(source, '"..." is not a segment');
      segs.push({ t: 'descend' });
      i += 2;
      // `$..key` and `$..[*]`: the descent is followed directly by a name or a bracket.
      if (src[i] === '[') continue;
      i = readName(src, i, segs, source);
    } else if (c === '.') {
      i = readName(src, i + 1, segs, source);
    } else if (c === '[') {
      i = readBracket(src, i, segs, source);
    } else {
      throw new PathSyntaxError(source, `unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  if (segs[segs.length - 1]?.t === 'descend') throw new PathSyntaxError(source, '".." must be followed by a key');
  return { segs };
}

function readName(src: string, start: number, segs: PatternSeg[], source: string): number {
  let end = start;
  while (end < src.length && src[end] !== '.' && src[end] !== '[') end++;
  const name = src.slice(start, end);
  if (name === '') throw new PathSyntaxError(source, `empty key at ${start}`);
  if (name.includes(']')) throw new PathSyntaxError(source, `unexpected "]" at ${start}`);
  segs.push(name === '*' ? { t: 'anyKey' } : { t: 'key', key: name });
  return end;
}

function readBracket(src: string, start: number, segs: PatternSeg[], source: string): number {
  const quote = src[start + 1];
  if (quote === '"' || quote === "'") {
    // A quoted key: scan to the matching quote, honouring backslash escapes.
    let j = start + 2;
    while (j < src.length && src[j] !== quote) j += src[j] === '\\' ? 2 : 1;
    if (src[j + 1] !== ']') throw new PathSyntaxError(source, `unterminated quoted key at ${start}`);
    const raw = src.slice(start + 2, j);
    let key: string;
    try {
      key = quote === '"' ? (JSON.parse(`"${raw}"`) as string) : raw.replace(/\\(.)/g, '$1');
    } catch {
      throw new PathSyntaxError(source, `bad quoted key at ${start}`);
    }
    segs.push({ t: 'key', key });
    return j + 2;
  }
  const close = src.indexOf(']', start);
  if (close === -1) throw new PathSyntaxError(source, `unterminated "[" at ${start}`);
  const inner = src.slice(start + 1, close).trim();
  if (inner === '*') segs.push({ t: 'anyIndex' });
  else if (/^\d+$/.test(inner)) segs.push({ t: 'index', index: Number(inner) });
  else throw new PathSyntaxError(source, `expected [n], [*] or ["key"] at ${start}`);
  return close + 1;
}

/** The object keys along a path (for redaction by field name); `$headers.x` yields `x`. */
export function pathKeys(path: string): string[] {
  try {
    const p = parsePattern(path);
    if (p.special) return p.special.startsWith('$headers.') ? [p.special.slice('$headers.'.length)] : [];
    return p.segs.flatMap((s) => (s.t === 'key' ? [s.key] : []));
  } catch {
    return [];
  }
}

/**
 * Array indexes become `[*]`: `$.items[3].createdAt` → `$.items[*].createdAt`. Learned noise and the rule lists are
 * keyed by this form, so one rule covers every element.
 */
export function normalizePath(path: string): string {
  const src = path.trim();
  if (src === '$status' || src === '$body') return src;
  if (src.startsWith('$headers.')) return src.toLowerCase();
  let p: ParsedPattern;
  try {
    p = parsePattern(src);
  } catch {
    return src;
  }
  if (!p.segs) return p.special;
  let out = '$';
  let afterDescend = false;
  for (const s of p.segs) {
    // After `..` a key is written bare (`$..id`), everything else as usual (`$..[*]`).
    if (s.t === 'key') out += afterDescend ? formatKey(s.key).replace(/^\./, '') : formatKey(s.key);
    else if (s.t === 'anyKey') out += afterDescend ? '*' : '.*';
    else if (s.t === 'descend') out += '..';
    else out += '[*]';
    afterDescend = s.t === 'descend';
  }
  return out;
}
