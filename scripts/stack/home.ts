import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project';

/** Where the local stack keeps its state between runs: `.strangler/` at the repo root, or `$STRANGLER_HOME`. */
export function stackHome(): string {
  return path.resolve(process.env.STRANGLER_HOME ?? path.join(PROJECT_ROOT, '.strangler'));
}

/**
 * The home is 0711: others may pass through (as root, the embedded Postgres runs as the OS user `postgres` and must
 * reach `pg/`, which it keeps 0700 itself) but not list it. What holds a secret lives in 0700 folders as 0600 files:
 * `private/` (the tokens, the Postgres superuser URL) and `logs/`.
 */
export const HOME_MODE = 0o711;
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export const stackPaths = (home = stackHome()) => ({
  home,
  pgData: path.join(home, 'pg'),
  kafkaData: path.join(home, 'kafka'),
  logs: path.join(home, 'logs'),
  private: path.join(home, 'private'),
  /** The tokens and secrets made on first start and kept (see secrets.ts). */
  secretsFile: path.join(home, 'private', 'secrets.json'),
  /** What `strangler up` is running now: URLs and tokens, for the other commands. */
  stateFile: path.join(home, 'private', 'stack.json'),
});

function privateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Creates the home with the modes above and tightens one made by an older version (0755, with `secrets.json` and
 * `stack.json` at its top): those move into `private/`.
 */
export function prepareHome(home = stackHome()): ReturnType<typeof stackPaths> {
  const paths = stackPaths(home);
  fs.mkdirSync(home, { recursive: true, mode: HOME_MODE });
  fs.chmodSync(home, HOME_MODE);
  privateDir(paths.private);
  privateDir(paths.logs);
  for (const file of fs.readdirSync(paths.logs)) fs.chmodSync(path.join(paths.logs, file), PRIVATE_FILE_MODE);
  const legacySecrets = path.join(home, 'secrets.json');
  if (fs.existsSync(legacySecrets) && !fs.existsSync(paths.secretsFile)) fs.renameSync(legacySecrets, paths.secretsFile);
  fs.rmSync(legacySecrets, { force: true });
  fs.rmSync(path.join(home, 'stack.json'), { force: true });
  if (fs.existsSync(paths.secretsFile)) fs.chmodSync(paths.secretsFile, PRIVATE_FILE_MODE);
  return paths;
}

/** Writes a file only its owner can read, whatever mode an older copy had. */
export function writePrivateFile(file: string, text: string): void {
  privateDir(path.dirname(file));
  fs.writeFileSync(file, text, { mode: PRIVATE_FILE_MODE });
  fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** Opens a log for appending, readable by its owner only (logs carry request paths and component errors). */
export function openLog(file: string): number {
  privateDir(path.dirname(file));
  const fd = fs.openSync(file, 'a', PRIVATE_FILE_MODE);
  fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  return fd;
}

/** A log stream for lines the stack itself writes (Unleash's and Kafka's output). */
export function logStream(file: string): fs.WriteStream {
  return fs.createWriteStream(file, { fd: openLog(file) });
}

export interface StackState {
  startedAt: string;
  pid: number;
  components: { name: string; url: string; pid?: number }[];
  /** The plan the stack runs (absolute path); the other commands read the same one. */
  plan?: string;
  /** The values of the plan's `${VAR}`s at start (database URLs included: the file is the operator's own). */
  planEnv?: Record<string, string>;
  contexts?: string[];
  [key: string]: unknown;
}

export function writeStackState(state: StackState, home = stackHome()): void {
  writePrivateFile(stackPaths(home).stateFile, JSON.stringify(state, null, 2));
}

export function readStackState(home = stackHome()): StackState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stackPaths(home).stateFile, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}
