import { loadPlanOrFail } from '../cli/deps';
import { CliError } from '../cli/errors';
import { readStackState } from '../stack/home';
import { checkPlan, type CheckResult } from '../plan/check';
import { formatCheck } from '../plan/format';

/** The server plan database names resolve on: `STRANGLER_PG_URL`, else the running stack's. */
export function planServerUrl(): string | undefined {
  return process.env.STRANGLER_PG_URL || (readStackState()?.postgresUrl as string | undefined) || undefined;
}

/** The failing checks as one refusal, for `up --plan` and `stage`. */
export function refusal(results: CheckResult[], what: string): CliError | undefined {
  const failing = results.filter((r) => !r.ok);
  if (!failing.length) return undefined;
  return new CliError(`${what}: ${failing.length} plan check(s) failed (strangler plan check for all):\n${failing.map(formatCheck).join('\n')}`, 2);
}

/** `strangler plan check`: one line per check; exit 1 when any fails. */
export async function planCheckCommand(opts: { plan?: string; apply?: boolean; json?: boolean }): Promise<void> {
  const plan = loadPlanOrFail(opts.plan);
  const results = await checkPlan(plan, { serverUrl: planServerUrl(), apply: Boolean(opts.apply) });
  const ok = results.every((r) => r.ok);
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok, checks: results }, null, 2)}\n`);
  else process.stdout.write(`${results.map(formatCheck).join('\n')}\n\n${ok ? 'all' : `${results.filter((r) => !r.ok).length} of`} ${results.length} checks ${ok ? 'pass' : 'failed'}\n`);
  if (!ok) process.exitCode = 1;
}
