import fs from 'node:fs';
import path from 'node:path';

/**
 * The repository root, whether this module runs from the sources (tsx, ts-jest) or from the compiled copy in dist/:
 * files the code reads at run time (the plan, the dashboard's static files, the Unleash entry, the Kafka pom) are
 * never copied into dist/, so they are found from here.
 */
export const PROJECT_ROOT = findRoot(__dirname);

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Whether this process runs the JavaScript that `npm run build` wrote to dist/ (rather than the TypeScript). */
export const RUNS_COMPILED = !__filename.endsWith('.ts');

/**
 * Node arguments that run a TypeScript entry of the repository (`facade/src/main.ts`) in the same form as this
 * process: its compiled file under dist/ when we run compiled, else the source through tsx (tests, `npm run bench`).
 */
export function entryArgs(entry: string): string[] {
  if (!RUNS_COMPILED) return ['--import', 'tsx', path.resolve(PROJECT_ROOT, entry)];
  const compiled = path.join(PROJECT_ROOT, 'dist', entry.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(compiled)) throw new Error(`${path.relative(PROJECT_ROOT, compiled)} is missing: run \`npm run build\``);
  return [compiled];
}
