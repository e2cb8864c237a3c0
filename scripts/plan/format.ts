import type { CheckResult } from './check';

/** One line per check: `pass  name: detail`, `skip  …`, or `FAIL  name: detail — fix: remedy`. */
export function formatCheck(r: CheckResult): string {
  const head = `${r.skipped ? 'skip' : r.ok ? 'pass' : 'FAIL'}  ${r.name}: ${r.detail}`;
  if (r.applied) return `${head} — applied: ${r.applied}`;
  return r.ok ? head : `${head} — fix: ${r.remedy}`;
}
