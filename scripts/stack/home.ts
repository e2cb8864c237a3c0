import fs from 'node:fs';
import path from 'node:path';

/** Where the local stack keeps its state between runs: `.strangler/` at the repo root, or `$STRANGLER_HOME`. */
export function stackHome(): string {
  return path.resolve(process.env.STRANGLER_HOME ?? path.join(__dirname, '..', '..', '.strangler'));
}

export const stackPaths = (home = stackHome()) => ({
  home,
  pgData: path.join(home, 'pg'),
  kafkaData: path.join(home, 'kafka'),
  logs: path.join(home, 'logs'),
  /** What `strangler up` is running now: URLs and tokens, for the other commands. */
  stateFile: path.join(home, 'stack.json'),
});

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
  fs.mkdirSync(home, { recursive: true });
  // Tokens and the plan's database URLs are in it: the operator's eyes only.
  fs.writeFileSync(stackPaths(home).stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function readStackState(home = stackHome()): StackState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stackPaths(home).stateFile, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}
