import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project';

/** What tsconfig.build.json compiles; its build info is dist/'s timestamp. */
const BUILT_FOLDERS = ['lib', 'monolith', 'extracted', 'facade', 'migrations', 'scripts'];
const BUILD_INFO = path.join(PROJECT_ROOT, 'dist', '.tsbuildinfo');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * Tests that start the CLI run it as users do, compiled (test/harness/cli.ts), and so does every process it starts:
 * rebuild dist/ when a source changed since the last build, so a test never runs yesterday's JavaScript.
 */
export function ensureBuilt(): void {
  const built = fs.existsSync(BUILD_INFO) ? fs.statSync(BUILD_INFO).mtimeMs : 0;
  if (BUILT_FOLDERS.every((f) => newestSource(path.join(PROJECT_ROOT, f)) <= built)) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noCheck'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  // tsc leaves the build info alone when no output changed (a comment edit): stamp it, or every run would rebuild.
  const now = new Date();
  fs.utimesSync(BUILD_INFO, now, now);
}
