import fs from 'node:fs';
import path from 'node:path';

/** The parts of V8's .cpuprofile (what `node --cpu-prof` writes) that a summary needs. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** Package, `facade`, `lib`, `node:…` or a V8 bucket such as `(garbage collector)`. */
  category: string;
  where: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  pct: number;
}

export interface ProfileSummary {
  file?: string;
  /** Whether only the samples inside the requested time window were counted. */
  windowed: boolean;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  byCategory: { category: string; ms: number; pct: number }[];
  topSelf: ProfileEntry[];
  /** Inclusive time of this repository's own functions (facade/, lib/) and the proxy engine's. */
  topInclusive: ProfileEntry[];
}

const V8_BUCKETS = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Where a function lives, coarse enough to act on: a package, our folders, or a Node core module. */
export function categoryOf(url: string, functionName: string): string {
  if (!url) return V8_BUCKETS.has(functionName) ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) {
    const mod = url.slice(5);
    if (/^_http_|^http$|^internal\/http/.test(mod)) return 'node:http';
    if (/^net$|^internal\/(stream_base|net)|^internal\/dns/.test(mod)) return 'node:net';
    if (/^internal\/streams|^stream$/.test(mod)) return 'node:streams';
    if (/^events$|^internal\/(process\/task_queues|timers|async_hooks)|^timers$/.test(mod)) return 'node:events+timers';
    return 'node:other';
  }
  // The CDC code split by part (source, sink, events, transport, …): which half of a pipeline the time is in.
  const cdc = /\/migrations\/cdc\/([^/]+)\//.exec(url);
  if (cdc) return `cdc/${cdc[1]}`;
  const m = /\/(facade|lib|bench|monolith|scripts)\//.exec(url);
  return m ? m[1] : 'other';
}

function shortWhere(url: string, line: number): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('/node_modules/');
  const rel = nm !== -1 ? clean.slice(nm + '/node_modules/'.length) : /\/(facade|lib|bench|migrations)\/.*/.exec(clean)?.[0].slice(1) ?? path.basename(clean);
  // tsx compiles our TypeScript without a source map in the profile: its line numbers mean nothing.
  return rel.endsWith('.ts') ? rel : `${rel}:${line + 1}`;
}

export interface SummaryOptions {
  top?: number;
  /** Count only samples taken in this span of the monotonic clock, in µs (ignored if the profile lies outside it). */
  window?: { fromUs: number; toUs: number };
  /** Which categories the inclusive list keeps (default: the facade's code and the proxy, metrics and flag packages). */
  inclusive?: (category: string) => boolean;
}

const FACADE_INCLUSIVE = new Set(['facade', 'lib', 'httpxy', 'http-proxy-middleware', 'prom-client', 'unleash-client']);

export function summarizeProfile(profile: CpuProfile, options: SummaryOptions = {}): ProfileSummary {
  const top = options.top ?? 15;
  const w = options.window;
  const windowed = Boolean(w && w.fromUs < profile.endTime && w.toUs > profile.startTime);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Each sample lasts until the next one (DevTools' convention); the last one until the profile's end.
  const selfById = new Map<number, number>();
  let t = profile.startTime;
  const times = profile.timeDeltas.map((d) => (t += d));
  for (let i = 0; i < profile.samples.length; i++) {
    if (windowed && (times[i] < w!.fromUs || times[i] > w!.toUs)) continue;
    const next = i + 1 < times.length ? times[i + 1] : profile.endTime;
    const us = Math.max(0, next - times[i]);
    selfById.set(profile.samples[i], (selfById.get(profile.samples[i]) ?? 0) + us);
  }

  const key = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'}\u0000${f.url}\u0000${f.lineNumber}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const categories = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfById) {
    const f = byId.get(id)!.callFrame;
    totalUs += us;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const k = key(id);
    self.set(k, (self.get(k) ?? 0) + us);
    const cat = categoryOf(f.url, f.functionName);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets this sample once (recursion is not double-counted).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = key(cur);
      if (seen.has(ck)) continue;
      seen.add(ck);
      inclusive.set(ck, (inclusive.get(ck) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? Math.round((1000 * us) / busyUs) / 10 : 0);
  const ms = (us: number) => Math.round(us / 100) / 10;
  const entry = (k: string, us: number): ProfileEntry => {
    const [name, url, line] = k.split('\u0000');
    return { name, category: categoryOf(url, name), where: shortWhere(url, Number(line)), ms: ms(us), pct: pct(us) };
  };
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const keep = options.inclusive ?? ((c: string) => FACADE_INCLUSIVE.has(c));
  const ours = (e: ProfileEntry) => keep(e.category);
  return {
    windowed,
    totalMs: ms(totalUs),
    idleMs: ms(idleUs),
    busyMs: ms(busyUs),
    byCategory: sorted(categories).map(([category, us]) => ({ category, ms: ms(us), pct: pct(us) })),
    topSelf: sorted(self).slice(0, top).map(([k, us]) => entry(k, us)),
    topInclusive: sorted(inclusive)
      .map(([k, us]) => entry(k, us))
      .filter(ours)
      .slice(0, top),
  };
}

export function summarizeFile(file: string, options: SummaryOptions = {}): ProfileSummary {
  return { file, ...summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, options) };
}

// `node --import tsx bench/profile/summarize.ts <file.cpuprofile> [top]`
if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/profile/summarize.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  // Loaded lazily so the summary stays usable without the renderer (and the two do not import each other).
  void import('./render').then(({ renderProfile }) => console.log(renderProfile(summarizeFile(file, { top: Number(top) || 15 }))));
}
