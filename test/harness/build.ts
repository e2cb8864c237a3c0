import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project';

/**
 * Tests that start the CLI run it as users do, compiled (test/harness/cli.ts), and so does every process it starts:
 * rebuild dist/ first when a source changed since the last build (scripts/bin/build.cjs, as `npx strangler` does).
 */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'bin', 'build.cjs')], { stdio: 'inherit' });
}
