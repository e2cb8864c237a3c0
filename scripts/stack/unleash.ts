import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { isPortTaken } from '../../lib/net/ports';
import { PROJECT_ROOT } from '../../lib/project';
import { sleep } from '../../lib/retry';

/** Unleash creates this account on a database without users; it is for people, our code uses API tokens. */
export const UNLEASH_UI_LOGIN = { user: 'admin', password: 'unleash4all' } as const;

export interface UnleashTokens {
  /** `*:*.<hex>`: admin API, all projects and environments. */
  adminToken: string;
  /** `default:development.<hex>`: backend SDKs (unleash-client), one project and environment. */
  clientToken: string;
}

/**
 * Tokens in Unleash's `<project>:<environment>.<secret>` format. With a secret they are derived from it (the same
 * secret always yields the same tokens, so a persistent stack can restart against its database); without one they
 * are random. The two never share a secret, so leaking the client token reveals nothing about the admin one.
 */
export function defaultUnleashTokens(secret?: string): UnleashTokens {
  const hex = (purpose: string) =>
    secret === undefined
      ? randomBytes(32).toString('hex')
      : createHash('sha256').update(`strangler-unleash:${purpose}:${secret}`).digest('hex');
  return { adminToken: `*:*.${hex('admin')}`, clientToken: `default:development.${hex('backend')}` };
}

export interface StartUnleashOptions {
  /** postgres://… URL of a database Unleash owns; it runs its migrations there. */
  databaseUrl: string;
  port: number;
  adminToken: string;
  clientToken: string;
  /** Every line the server prints (stdout and stderr). */
  onLog?: (line: string) => void;
  /** Unleash's own log threshold: debug | info | warn | error. */
  logLevel?: string;
  timeoutMs?: number;
}

export interface UnleashProcess {
  /** Base URL without a trailing slash; SDKs want `${url}/api/`. */
  url: string;
  adminToken: string;
  clientToken: string;
  uiLogin: { user: string; password: string };
  pid: number;
  /** Spawn to ready (health and both tokens accepted). */
  startupMs: number;
  stop(): Promise<void>;
}

export class UnleashStartError extends Error {
  constructor(
    message: string,
    readonly lastLines: string[],
  ) {
    super(lastLines.length ? `${message}\n--- last Unleash output ---\n${lastLines.join('\n')}` : message);
    this.name = 'UnleashStartError';
  }
}

const DEFAULT_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const KEPT_LINES = 40;

/** Plain JavaScript that the build does not copy: compiled or not, the stack runs it from the source tree. */
const SERVER_ENTRY = path.join(PROJECT_ROOT, 'scripts', 'stack', 'unleash', 'server.mjs');


async function status(url: string, authorization?: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, {
      headers: authorization ? { authorization } : {},
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/**
 * Runs the real Unleash server as a child process and resolves once it serves requests with our tokens.
 *
 * Unleash is ESM-only and installs process-wide handlers, so it never runs inside the caller's process.
 */
export async function startUnleash(options: StartUnleashOptions): Promise<UnleashProcess> {
  const began = Date.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = `http://127.0.0.1:${options.port}`;
  const lastLines: string[] = [];
  // Unleash would fail to bind and exit, but the old occupant could answer /health and send us on a false trail.
  if (await isPortTaken(options.port)) throw new UnleashStartError(`port ${options.port} is already in use`, []);

  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      PORT: String(options.port),
      UNLEASH_ADMIN_TOKEN: options.adminToken,
      UNLEASH_CLIENT_TOKEN: options.clientToken,
      UNLEASH_LOG_LEVEL: options.logLevel ?? 'warn',
      // Unleash's own variables (used when it creates the first user), set so `uiLogin` holds even if the caller's
      // environment has others.
      UNLEASH_DEFAULT_ADMIN_USERNAME: UNLEASH_UI_LOGIN.user,
      UNLEASH_DEFAULT_ADMIN_PASSWORD: UNLEASH_UI_LOGIN.password,
    },
    // The IPC channel is only a lifeline: the server stops itself when it closes, even if we die by SIGKILL.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) {
    // spawn reports ENOENT and friends asynchronously; wait for it so the error says what went wrong.
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new UnleashStartError(`could not spawn Unleash: ${err.message}`, []);
  }
  const pid = child.pid;
  // A ChildProcess 'error' without a listener would throw in the caller; a failed kill is the only one left here.
  child.on('error', (err) => lastLines.push(`(child process error: ${err.message})`));

  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream! }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > KEPT_LINES) lastLines.shift();
      options.onLog?.(line);
    });
  }

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  // An exit handler can only do synchronous work: a signal is all we can send.
  const killOnParentExit = () => {
    if (!exit) child.kill('SIGTERM');
  };
  process.once('exit', killOnParentExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!exit) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const graceful = await Promise.race([
          exited.then(() => true),
          new Promise<false>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS))),
        ]);
        clearTimeout(timer);
        if (!graceful && !exit) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      process.removeListener('exit', killOnParentExit);
    })());

  const fail = async (message: string): Promise<never> => {
    await stop();
    // Let the last buffered lines reach the readline listeners before quoting them.
    await sleep(20);
    throw new UnleashStartError(message, lastLines);
  };

  const deadline = began + timeoutMs;
  const describeExit = () => `Unleash exited during start-up (code ${exit?.code}, signal ${exit?.signal})`;

  // /health only answers after migrations and the initial tokens are in, so it gates the token probes: an unknown
  // token is remembered as invalid for 5 minutes, and probing too early would lock our own token out.
  while ((await status(`${url}/health`)) !== 200) {
    if (exit) return fail(describeExit());
    if (Date.now() > deadline) return fail(`Unleash did not become healthy on ${url} within ${timeoutMs} ms`);
    await sleep(200);
  }
  if (exit) return fail(describeExit());

  const tokenProblem = (which: string, code: number | undefined) =>
    `Unleash on ${url} is up but refused the ${which} token (HTTP ${code}). Initial tokens are only inserted into ` +
    'an empty token table: a database created earlier keeps its old tokens, so use those or a fresh database.';
  const adminStatus = await status(`${url}/api/admin/environments`, options.adminToken);
  if (adminStatus !== 200) return fail(tokenProblem('admin', adminStatus));
  const clientStatus = await status(`${url}/api/client/features`, options.clientToken);
  if (clientStatus !== 200) return fail(tokenProblem('client', clientStatus));

  return {
    url,
    adminToken: options.adminToken,
    clientToken: options.clientToken,
    uiLogin: { ...UNLEASH_UI_LOGIN },
    pid,
    startupMs: Date.now() - began,
    stop,
  };
}
