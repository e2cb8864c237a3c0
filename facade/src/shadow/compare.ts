import { ARR, deepEqual, hasOwn, kindOf, OBJ, type Obj } from './equal';
import { formatKey, formatPath, type Segment } from './paths';
import { step, type CompiledRules, type RouteRules, type State } from './rules';

/** One upstream response as the shadow path captured it (the body possibly cut at the capture limit). */
export interface Captured {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  truncated?: boolean;
}

/**
 * One difference. `path` is concrete (`$.items[2].sku`, `$status`, `$headers.content-type`, `$body`); a value that
 * exists on one side only is `null` on the other with `missing` naming that side.
 */
export interface DiffEntry {
  path: string;
  monolith: unknown;
  service: unknown;
  missing?: 'monolith' | 'service';
  /** Markers only: how many differences were left out of `diffs`. */
  omitted?: number;
}

export interface CompareResult {
  /** True when no counted difference was found (ignored paths, learned noise and markers do not count). */
  match: boolean;
  /** Counted differences, at most `maxDiffs` of them. */
  diffs: DiffEntry[];
  /** Every counted difference, including those left out of `diffs`. */
  diffCount: number;
  /** Paths that differed but match an ignore rule of the plan. */
  ignored: string[];
  /** Paths that differed but are learned noise (they differ between two calls of the monolith too). */
  noise: string[];
  /** Facts about the comparison that are not failures: `$body.truncated`, `$diffs.omitted`. */
  markers: DiffEntry[];
}

/** Beyond this depth a subtree is compared as a whole (one diff at its root), keeping the walk's stack bounded. */
const MAX_DEPTH = 256;
const DEFAULT_MAX_DIFFS = 50;
const BODY_PREVIEW_BYTES = 4096;

class Walker {
  readonly segs: Segment[] = [];
  readonly diffs: DiffEntry[] = [];
  readonly ignored: string[] = [];
  readonly noise: string[] = [];
  readonly markers: DiffEntry[] = [];
  count = 0;

  constructor(
    private readonly noiseSet: ReadonlySet<string>,
    private readonly maxDiffs: number,
  ) {}

  /** A learned noise path is this node or one of its ancestors, in normalized form. */
  private isNoise(): boolean {
    if (this.noiseSet.size === 0) return false;
    let p = '$';
    if (this.noiseSet.has(p)) return true;
    for (const s of this.segs) {
      p += typeof s === 'number' ? '[*]' : formatKey(s);
      if (this.noiseSet.has(p)) return true;
    }
    return false;
  }

  private push(list: string[], path: string): void {
    if (list.length < this.maxDiffs) list.push(path);
  }

  diffHere(monolith: unknown, service: unknown, missing?: 'monolith' | 'service'): void {
    // Learned noise says a value changes per call; a field that is absent on one side is still a contract change.
    if (!missing && this.isNoise()) {
      this.push(this.noise, formatPath(this.segs));
      return;
    }
    this.count++;
    if (this.diffs.length < this.maxDiffs) this.diffs.push(entry(formatPath(this.segs), monolith, service, missing));
  }

  ignoredHere(): void {
    this.push(this.ignored, formatPath(this.segs));
  }

  /** Status, headers, `$body`: compared whole, never walked. */
  special(path: string, rules: RouteRules, monolith: unknown, service: unknown, missing?: 'monolith' | 'service'): void {
    if (rules.specials.has(path)) this.push(this.ignored, path);
    else if (!missing && this.noiseSet.has(path)) this.push(this.noise, path);
    else {
      this.count++;
      if (this.diffs.length < this.maxDiffs) this.diffs.push(entry(path, monolith, service, missing));
    }
  }

  walk(a: unknown, b: unknown, states: readonly State[], unordered: boolean): void {
    if (a === b) return;
    const k = kindOf(a);
    if (k !== kindOf(b) || k < ARR) return this.diffHere(a, b);
    if (this.segs.length >= MAX_DEPTH) {
      if (!deepEqual(a, b)) this.diffHere(a, b);
      return;
    }
    if (k === OBJ) {
      const ao = a as Obj;
      const bo = b as Obj;
      for (const key in ao) {
        const inB = hasOwn.call(bo, key);
        this.child(ao[key], inB ? bo[key] : undefined, key, states, true, inB);
      }
      for (const key in bo) if (!hasOwn.call(ao, key)) this.child(undefined, bo[key], key, states, false, true);
    } else if (unordered) {
      this.walkUnordered(a as unknown[], b as unknown[], states);
    } else {
      const aa = a as unknown[];
      const bb = b as unknown[];
      const n = Math.max(aa.length, bb.length);
      for (let i = 0; i < n; i++) this.child(aa[i], bb[i], i, states, i < aa.length, i < bb.length);
    }
  }

  private child(a: unknown, b: unknown, seg: Segment, states: readonly State[], inA: boolean, inB: boolean): void {
    const st = step(states, seg);
    this.segs.push(seg);
    if (st.ignore) {
      if (!(inA && inB && deepEqual(a, b))) this.ignoredHere();
    } else if (!inA) this.diffHere(null, b, 'monolith');
    else if (!inB) this.diffHere(a, null, 'service');
    else this.walk(a, b, st.next, st.unordered);
    this.segs.pop();
  }

  /**
   * Multiset comparison: elements pair up by canonical JSON (sorted keys, ignored and noise paths left out). What
   * is left over pairs in order and is compared field by field, reported at the monolith's index.
   */
  private walkUnordered(a: unknown[], b: unknown[], states: readonly State[]): void {
    // Earliest first on both sides, so a surplus duplicate is reported at its later index.
    const pool = new Map<string, { at: number[]; used: number }>();
    for (let i = 0; i < a.length; i++) {
      const key = this.canonicalChild(a[i], i, states);
      const slot = pool.get(key);
      if (slot) slot.at.push(i);
      else pool.set(key, { at: [i], used: 0 });
    }
    const leftB: number[] = [];
    for (let j = 0; j < b.length; j++) {
      const slot = pool.get(this.canonicalChild(b[j], j, states));
      if (slot && slot.used < slot.at.length) slot.used++;
      else leftB.push(j);
    }
    const leftA: number[] = [];
    for (const slot of pool.values()) for (let k = slot.used; k < slot.at.length; k++) leftA.push(slot.at[k]);
    leftA.sort((x, y) => x - y);
    const paired = Math.min(leftA.length, leftB.length);
    for (let k = 0; k < paired; k++) this.child(a[leftA[k]], b[leftB[k]], leftA[k], states, true, true);
    for (let k = paired; k < leftA.length; k++) this.child(a[leftA[k]], undefined, leftA[k], states, true, false);
    for (let k = paired; k < leftB.length; k++) this.child(undefined, b[leftB[k]], leftB[k], states, false, true);
  }

  private canonicalChild(v: unknown, seg: Segment, states: readonly State[]): string {
    const st = step(states, seg);
    if (st.ignore) return '~';
    this.segs.push(seg);
    try {
      return this.isNoise() ? '~' : this.canonical(v, st.next);
    } finally {
      this.segs.pop();
    }
  }

  private canonical(v: unknown, states: readonly State[]): string {
    const k = kindOf(v);
    if (k < ARR) return JSON.stringify(v);
    if (this.segs.length >= MAX_DEPTH) return '!';
    if (k === ARR) {
      const arr = v as unknown[];
      let out = '[';
      for (let i = 0; i < arr.length; i++) out += (i ? ',' : '') + this.canonicalChild(arr[i], i, states);
      return `${out}]`;
    }
    const obj = v as Obj;
    let out = '{';
    let first = true;
    for (const key of Object.keys(obj).sort()) {
      const c = this.canonicalChild(obj[key], key, states);
      if (c === '~') continue;
      out += `${first ? '' : ','}${JSON.stringify(key)}:${c}`;
      first = false;
    }
    return `${out}}`;
  }
}

function entry(path: string, monolith: unknown, service: unknown, missing?: 'monolith' | 'service'): DiffEntry {
  return missing ? { path, monolith, service, missing } : { path, monolith, service };
}

/** Case-insensitive; Node already lower-cases incoming header names, so the scan is a fallback. */
export function headerValue(headers: Captured['headers'], name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    for (const k of Object.keys(headers)) {
      if (k.toLowerCase() === name) {
        v = headers[k];
        break;
      }
    }
  }
  return Array.isArray(v) ? v.join(', ') : v;
}

const NOT_JSON = Symbol('not json');

function parseJson(c: Captured): unknown {
  const body = c.body;
  const type = headerValue(c.headers, 'content-type');
  if (!(type && /json/i.test(type))) {
    // "Or parseable": a body that starts like a JSON document is tried even with a wrong or missing content type.
    let i = 0;
    while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
    if (body[i] !== 0x7b && body[i] !== 0x5b) return NOT_JSON;
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}

function preview(buf: Buffer): string {
  return buf.toString('utf8', 0, Math.min(buf.length, BODY_PREVIEW_BYTES));
}

function compareBody(w: Walker, rules: RouteRules, m: Captured, s: Captured): void {
  const mt = !!m.truncated;
  const st = !!s.truncated;
  if (mt || st) w.markers.push({ path: '$body.truncated', monolith: mt, service: st });
  if (m.body.equals(s.body)) return;
  if (rules.ignoreWholeBody) return w.special('$body', rules, null, null);
  if (!mt && !st) {
    const mj = parseJson(m);
    const sj = parseJson(s);
    if (mj !== NOT_JSON && sj !== NOT_JSON) {
      if (mj === sj) return;
      // The root is a node like any other: a `$` rule or a type change is handled by the walk itself.
      w.walk(mj, sj, rules.root, rules.unorderedRoot);
      return;
    }
    return w.special('$body', rules, preview(m.body), preview(s.body));
  }
  // A cut body cannot be parsed: compare the bytes both sides have. Equal prefixes are inconclusive only when the
  // shorter side is the one that was cut.
  const n = Math.min(m.body.length, s.body.length);
  const samePrefix = m.body.subarray(0, n).equals(s.body.subarray(0, n));
  const shorterCut = m.body.length < s.body.length ? mt : s.body.length < m.body.length ? st : true;
  if (!samePrefix || !shorterCut) w.special('$body', rules, preview(m.body), preview(s.body));
}

export interface CompareInput {
  /** The plan route's source as written in the plan, e.g. `* /api/users/:id`. */
  route: string;
  method: string;
  monolith: Captured;
  service: Captured;
  rules: CompiledRules;
  /** Learned noise paths of this route, normalized. */
  noise?: ReadonlySet<string>;
  /** Cap on stored diff entries (and on the ignored and noise lists). */
  maxDiffs?: number;
}

const EMPTY: ReadonlySet<string> = new Set();

/** Compares the monolith's response with the service's: status, the configured headers, then the body. */
export function compareResponses(input: CompareInput): CompareResult {
  const { monolith: m, service: s, rules } = input;
  const routeRules = rules.forRoute(input.route, input.method);
  const w = new Walker(input.noise ?? EMPTY, input.maxDiffs ?? DEFAULT_MAX_DIFFS);
  if (m.status !== s.status) w.special('$status', routeRules, m.status, s.status);
  for (const name of rules.headers) {
    const mv = headerValue(m.headers, name);
    const sv = headerValue(s.headers, name);
    if (mv === sv) continue;
    const missing = mv === undefined ? 'monolith' : sv === undefined ? 'service' : undefined;
    w.special(`$headers.${name}`, routeRules, mv ?? null, sv ?? null, missing);
  }
  compareBody(w, routeRules, m, s);
  if (w.count > w.diffs.length) {
    w.markers.push({ path: '$diffs.omitted', monolith: null, service: null, omitted: w.count - w.diffs.length });
  }
  return { match: w.count === 0, diffs: w.diffs, diffCount: w.count, ignored: w.ignored, noise: w.noise, markers: w.markers };
}
