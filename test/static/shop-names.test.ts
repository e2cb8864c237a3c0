import fs from 'node:fs';
import path from 'node:path';

/**
 * The shop is one plan among others: the toolkit's code must not know its contexts. A context name of the shop in a
 * string of the toolkit (a route, a flag, a table, an env var, a context compared by name) is a special case that a
 * team's own monolith would fall through. The shop's own files are exempt: monolith/, extracted/, its plan, its
 * part of the local stack (scripts/stack/shop.ts), the workshop's exercises, which are run on the shop
 * (scripts/workshop/exercises.ts), and tests and fixtures.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const TOOLKIT = ['facade/src', 'control', 'lib', 'scripts', 'migrations/cdc', 'migrations/reconcile'];
const SHOP_FILES = new Set(['scripts/stack/shop.ts', 'scripts/workshop/exercises.ts']);
const NAMES = '(users|orders|payments|notifications)';
const SPECIAL_CASES = [
  new RegExp(`^${NAMES}$`),
  new RegExp(`/${NAMES}\\b`),
  new RegExp(`\\b${NAMES}\\.[a-z_]`),
  new RegExp(`[a-z_]\\.${NAMES}\\b`),
  new RegExp(`\\b${NAMES}-(forward|reverse)\\b`),
  new RegExp(`\\b${NAMES.toUpperCase()}_`),
];

function files(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '__tests__' || e.name === 'node_modules' ? [] : files(rel);
    return /\.(ts|js|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && e.name !== 'testing.ts' && !SHOP_FILES.has(rel) ? [rel] : [];
  });
}

/** String literals of a source file, comments removed first (a comment may name the shop as an example). */
export function stringLiterals(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

export function specialCases(source: string): string[] {
  return stringLiterals(source).filter((s) => SPECIAL_CASES.some((re) => re.test(s)));
}

describe('no shop context in the toolkit', () => {
  it('finds a shop context named in a string, and ignores one named in a comment', () => {
    expect(specialCases(`const ctx = ['users', 'orders'].includes(name); // not 'payments'`)).toEqual(['users', 'orders']);
    expect(specialCases('fetch(`${url}/api/orders/${id}`); env.USERS_URL; "strangler.users.route"; /* "notifications" */')).toEqual(['${url}/api/orders/${id}', 'strangler.users.route']);
    expect(specialCases(`log('sticky users the requests act as'); const u = "users-forward";`)).toEqual(['users-forward']);
  });

  it.each(TOOLKIT)('%s names no shop context outside the shop\'s own files', (dir) => {
    const found = files(dir).flatMap((f) => specialCases(fs.readFileSync(path.join(ROOT, f), 'utf8')).map((s) => `${f}: ${JSON.stringify(s)}`));
    expect(found).toEqual([]);
  });
});
