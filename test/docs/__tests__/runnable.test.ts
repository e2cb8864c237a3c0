import fs from 'node:fs';
import path from 'node:path';
import { EXERCISES } from '../../../scripts/workshop/exercises';
import { movePorts, runnableBlocks } from '../runnable';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

describe('runnable blocks in markdown', () => {
  it('reads the mark above a sh fence: exit code, expected texts, the nearest heading', () => {
    const md = ['# Title', '## Part', 'text', '<!-- run: exit 2 expect "a b" expect "c" -->', '```sh', 'false', 'echo hi', '```', '```sh', 'not marked', '```', '   <!-- run -->', '   ```sh', '   echo indented', '   ```'].join('\n');
    expect(runnableBlocks('x.md', md)).toEqual([
      { file: 'x.md', line: 5, section: 'Part', script: 'false\necho hi', exit: 2, expect: ['a b', 'c'] },
      { file: 'x.md', line: 13, section: 'Part', script: '   echo indented', exit: 0, expect: [] },
    ]);
  });

  it('refuses a mark on anything but a sh block, an unknown option, and an unclosed block', () => {
    expect(() => runnableBlocks('x.md', '<!-- run -->\n```bash\nls\n```')).toThrow('x.md:1: a run mark must be followed by a ```sh fence');
    expect(() => runnableBlocks('x.md', '<!-- run: quickly -->\n```sh\nls\n```')).toThrow('unknown run option "quickly"');
    expect(() => runnableBlocks('x.md', '<!-- run -->\n```sh\nls')).toThrow('never closed');
  });

  it('moves the default ports of local addresses only', () => {
    const moved = movePorts('curl http://127.0.0.1:8080/x localhost:3000 127.0.0.1:3105 example.com:8080', new Map([[8080, 18080], [3000, 13000]]));
    expect(moved).toBe('curl http://127.0.0.1:18080/x localhost:13000 127.0.0.1:3105 example.com:8080');
  });
});

describe('the workshop in MIGRATION.md', () => {
  const blocks = runnableBlocks('MIGRATION.md', read('MIGRATION.md'));

  it('has a runnable `strangler workshop check N` for every exercise, in order, expecting it done', () => {
    const checks = blocks.flatMap((b) => [...b.script.matchAll(/npx strangler workshop check (\d+)/g)].map((m) => ({ n: Number(m[1]), expect: b.expect })));
    expect(checks.map((c) => c.n)).toEqual(EXERCISES.map((e) => e.n));
    for (const c of checks) expect(c.expect).toContain(`exercise ${c.n} done`);
  });

  it('has a section per exercise the CLI knows, under the same number', () => {
    const headings = [...read('MIGRATION.md').matchAll(/^### Exercise (\d+) — (.*)$/gm)].map((m) => Number(m[1]));
    expect(headings).toEqual(EXERCISES.map((e) => e.n));
  });

  it('marks blocks in the README too, which run first', () => {
    expect(runnableBlocks('README.md', read('README.md')).length).toBeGreaterThan(0);
  });
});
