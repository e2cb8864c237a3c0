/**
 * The shell blocks of README.md and MIGRATION.md that are marked runnable, in document order. A block is marked by
 * an HTML comment on the line before its fence (readers of the rendered page see a plain block):
 *
 *     <!-- run -->                                  run it; it must exit 0
 *     <!-- run: exit 2 -->                          it must exit with this code
 *     <!-- run: expect "exercise 1 done" -->        its output (stdout and stderr) must contain the text
 *     <!-- run: exit 2 expect "a" expect "b" -->    both
 *
 * The fence must be ```sh. The docs show the stack's default ports; the docs test moves them.
 */
export interface RunnableBlock {
  file: string;
  /** 1-based line of the fence, for failure messages. */
  line: number;
  /** The nearest heading above the block. */
  section: string;
  script: string;
  exit: number;
  expect: string[];
}

const MARK = /^<!--\s*run(?::\s*(.*?))?\s*-->\s*$/;

export function runnableBlocks(file: string, text: string): RunnableBlock[] {
  const lines = text.split('\n');
  const out: RunnableBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6}\s+(.*)$/.exec(lines[i]);
    if (heading) section = heading[1];
    const mark = MARK.exec(lines[i].trim());
    if (!mark) continue;
    const fence = lines[i + 1]?.trim();
    if (fence !== '```sh') throw new Error(`${file}:${i + 1}: a run mark must be followed by a \`\`\`sh fence, found ${JSON.stringify(fence)}`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 2}: the runnable block is never closed`);
    const options = mark[1] ?? '';
    const exit = /(?:^|\s)exit\s+(\d+)/.exec(options);
    const expect = [...options.matchAll(/expect\s+"([^"]*)"/g)].map((m) => m[1]);
    const rest = options.replace(/(?:^|\s)exit\s+\d+/, '').replace(/expect\s+"[^"]*"/g, '').trim();
    if (rest) throw new Error(`${file}:${i + 1}: unknown run option ${JSON.stringify(rest)}`);
    out.push({ file, line: i + 2, section, script: lines.slice(i + 2, end).join('\n'), exit: exit ? Number(exit[1]) : 0, expect });
    i = end;
  }
  return out;
}

/** `127.0.0.1:<default port>` → the port the test's stack uses instead. */
export function movePorts(script: string, ports: Map<number, number>): string {
  return script.replace(/(127\.0\.0\.1|localhost):(\d+)/g, (m, host: string, port: string) => {
    const moved = ports.get(Number(port));
    return moved ? `${host}:${moved}` : m;
  });
}
