import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { portForLater } from '../../lib/net/ports';
import { DEFAULT_PORTS, PORT_ENV, type StackPorts } from '../../scripts/stack/topology';
import { runCli, tempStackHome } from '../harness/cli';
import { movePorts, runnableBlocks, type RunnableBlock } from './runnable';

/**
 * `npm run test:docs`: every shell block of README.md and then MIGRATION.md marked runnable, in order, against one
 * stack started here (`strangler up --workshop`, every port moved), each with its exit code and expected output
 * checked — the workshop's exercises included, each ending in `strangler workshop check N`. Blocks run from the
 * repository's root, as a participant types them; shell variables carry over from one block to the next, as in a
 * terminal. The machine time per section is printed at the end (MIGRATION.md's facilitator's page quotes it).
 */
const ROOT = path.resolve(__dirname, '..', '..');
/** Files the exercises write in the working folder; the test puts back whatever was there. */
const WRITTEN = ['draft.plan.yaml', 'my.plan.yaml'];

jest.setTimeout(1_800_000);

async function movedPorts(): Promise<{ env: Record<string, string>; map: Map<number, number> }> {
  const env: Record<string, string> = {};
  const map = new Map<number, number>();
  for (const [key, name] of Object.entries(PORT_ENV) as [keyof StackPorts, string][]) {
    const port = await portForLater();
    env[name] = String(port);
    map.set(DEFAULT_PORTS[key], port);
  }
  return { env, map };
}

/** Runs one block in bash (`-e -o pipefail`), with the variables earlier blocks left behind. */
function runBlock(block: RunnableBlock, script: string, env: Record<string, string>, stateFile: string): { code: number; output: string; ms: number } {
  const wrapped = [
    'base_vars=" $(compgen -v | tr "\\n" " ") "',
    `[ -f '${stateFile}' ] && . '${stateFile}'`,
    'set -e -o pipefail',
    script,
    // Only on success: the variables the docs set (upper case), for the next block.
    `for v in $(compgen -v | grep -E '^[A-Z][A-Z0-9_]*$'); do case "$base_vars" in *" $v "*) ;; *) declare -p "$v" ;; esac; done > '${stateFile}'`,
  ].join('\n');
  const started = Date.now();
  const res = spawnSync('bash', ['-c', wrapped], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000, maxBuffer: 32 * 1024 * 1024 });
  return { code: res.status ?? -1, output: `${res.stdout ?? ''}${res.stderr ?? ''}`, ms: Date.now() - started };
}

describe('the runnable blocks of README.md and MIGRATION.md', () => {
  it('run in order against a workshop-mode stack, each with the exit code and output the docs say', async () => {
    const blocks = ['README.md', 'MIGRATION.md'].flatMap((f) => runnableBlocks(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    const home = tempStackHome();
    const stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'docs-shell-')), 'vars.sh');
    const saved = new Map(WRITTEN.filter((f) => fs.existsSync(path.join(ROOT, f))).map((f) => [f, fs.readFileSync(path.join(ROOT, f))]));
    const { env: portEnv, map } = await movedPorts();
    const startedAt = Date.now();
    const stack = runCli(['up', '--workshop'], { STRANGLER_HOME: home, ...portEnv });
    const timings: [string, number][] = [];
    try {
      await stack.waitFor('strangler stack is up', 300_000);
      timings.push(['start the stack (up --workshop)', Date.now() - startedAt]);
      const env = { STRANGLER_HOME: home, PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` };
      for (const block of blocks) {
        // The docs show the default ports and home; this stack has its own.
        const script = movePorts(block.script, map).replace(/(\.\/)?\.strangler\//g, `${home}/`);
        const { code, output, ms } = runBlock(block, script, env, stateFile);
        const where = `${block.file}:${block.line} (${block.section})`;
        const last = timings[timings.length - 1];
        if (last && last[0] === block.section) last[1] += ms;
        else timings.push([block.section, ms]);
        if (code !== block.exit) throw new Error(`${where} exited ${code}, the docs say ${block.exit}:\n${block.script}\n--- output ---\n${output}`);
        for (const text of block.expect) {
          if (!output.includes(text)) throw new Error(`${where}: the output lacks ${JSON.stringify(text)}:\n${block.script}\n--- output ---\n${output}`);
        }
      }
    } finally {
      process.stderr.write(`machine time per section (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}):\n${timings.map(([s, ms]) => `  ${(ms / 1000).toFixed(0).padStart(5)} s  ${s}`).join('\n')}\n`);
      stack.child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([stack.exited(), new Promise((r) => (timer = setTimeout(r, 60_000)))]);
      clearTimeout(timer);
      if (!stopped) stack.child.kill('SIGKILL');
      for (const f of WRITTEN) {
        const file = path.join(ROOT, f);
        if (saved.has(f)) fs.writeFileSync(file, saved.get(f)!);
        else fs.rmSync(file, { force: true });
      }
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(path.dirname(stateFile), { recursive: true, force: true });
    }
  });
});
