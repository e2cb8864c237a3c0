import { resolveDatabaseUrl } from '../../migrations/cdc/pipeline/definition';
import type { Plan } from '../../control/plan';
import { loadPlanOrFail } from '../cli/deps';
import { CliError } from '../cli/errors';
import { findStack } from '../cli/stack-client';
import { contextOrFail } from './common';
import { formatSummary, progressLine } from '../load/format';
import { FacadeUnreachableError, LoadSetupError, runLoad } from '../load/runner';

export interface LoadFlags {
  rps?: string;
  duration?: string;
  users?: string;
  context?: string;
  header?: string[];
  token?: string;
  json?: boolean;
}

/** Where reads' keys come from: the plan's monolith database, a URL or a name on the stack's server. */
export function monolithDatabaseUrl(plan: Plan, serverUrl: string | undefined): string {
  const db = plan.monolith.database;
  if (/^postgres(ql)?:\/\//.test(db)) return db;
  if (!serverUrl) throw new CliError(`the plan's monolith database is the name "${db}" and no Postgres server is known to find it on (set STRANGLER_PG_URL, or give a postgres:// URL in the plan)`);
  return resolveDatabaseUrl(db, serverUrl);
}

/** `--header "Name: value"` (repeatable) and `--token T` (`Authorization: Bearer T`, or as given when it has a scheme). */
export function credentialHeaders(flags: { header?: string[]; token?: string }): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const i = h.indexOf(':');
    if (i < 1) throw new CliError(`--header must look like "Name: value", got ${JSON.stringify(h)}`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  if (flags.token) out.authorization = /\s/.test(flags.token.trim()) ? flags.token.trim() : `Bearer ${flags.token.trim()}`;
  return Object.keys(out).length ? out : undefined;
}

function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new CliError(`${name} must be an integer ${min}–${max}, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * `strangler load`: the plan's routes (of one context, or all) through the facade at a fixed arrival rate, then where they went and
 * how they fared. Errors of the traffic are the result, not a failure of the command: it exits 0 once the run ran.
 */
export async function loadCommand(flags: LoadFlags): Promise<void> {
  const rps = intFlag('--rps', flags.rps, 20, 1, 5000);
  const durationSec = intFlag('--duration', flags.duration, 30, 1, 3600);
  const actors = intFlag('--users', flags.users, 20, 1, 10000);
  const headers = credentialHeaders(flags);
  const { facadeUrl, postgresUrl } = findStack();
  const plan = loadPlanOrFail();
  if (flags.context) contextOrFail(plan, flags.context);
  const contexts = flags.context ? [flags.context] : Object.keys(plan.contexts);
  const databaseUrl = monolithDatabaseUrl(plan, postgresUrl);
  const live = !flags.json && process.stdout.isTTY === true;

  // Ctrl-C ends the run early and still prints what was measured.
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let lineWidth = 0;
  const clearLine = () => {
    if (lineWidth > 0) process.stdout.write(`\r${' '.repeat(lineWidth)}\r`);
    lineWidth = 0;
  };
  try {
    if (live) process.stdout.write(`sampling keys from the monolith's tables for ${contexts.join(', ')}…\n`);
    const summary = await runLoad({
      facadeUrl,
      rps,
      durationSec,
      plan,
      contexts,
      monolithDatabaseUrl: databaseUrl,
      actors,
      headers,
      signal: controller.signal,
      onTick: live
        ? (p) => {
            const line = progressLine(p);
            process.stdout.write(`\r${line.padEnd(lineWidth)}`);
            lineWidth = Math.max(lineWidth, line.length);
          }
        : undefined,
    });
    clearLine();
    process.stdout.write(flags.json ? `${JSON.stringify({ facadeUrl, ...summary }, null, 2)}\n` : formatSummary(summary, facadeUrl));
  } catch (err) {
    clearLine();
    if (err instanceof FacadeUnreachableError || err instanceof LoadSetupError) throw new CliError(err.message);
    throw err;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}
