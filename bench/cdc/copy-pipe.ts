import { execFileSync } from 'node:child_process';
import { runTimed } from './shell-timed';

export function psqlAvailable(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The monolith's columns in the service's order, so the pipe does the plan's one mapping (name → full_name). */
export const COPY_OUT = 'COPY users (id, email, name, created_at, updated_at) TO STDOUT';
export const COPY_IN = 'COPY users (id, email, full_name, created_at, updated_at) FROM STDIN';

/**
 * The anchor for the snapshot: the fastest way Postgres itself moves a table between two databases, text COPY out
 * of one psql into another. The table was filled in id order, so heap order is the snapshot's (primary key) order
 * and both fill the target's indexes alike.
 */
export function copyPipe(sourceUrl: string, targetUrl: string): Promise<{ seconds: number; cpuMs: number | null }> {
  return runTimed('copy pipe', 'psql -X -v ON_ERROR_STOP=1 -q "$0" -c "$1" | psql -X -v ON_ERROR_STOP=1 -q "$2" -c "$3"', [sourceUrl, COPY_OUT, targetUrl, COPY_IN]);
}
