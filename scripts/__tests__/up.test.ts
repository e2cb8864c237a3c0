import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, isPortTaken } from '../../lib/net/ports';
import { processAlive, runCli, tempStackHome } from '../../test/harness/cli';

jest.setTimeout(120_000);

describe('strangler up', () => {
  it('starts Postgres and the seeded monolith, and Ctrl-C stops everything cleanly', async () => {
    const home = tempStackHome();
    const pgPort = await freePort();
    const monolithPort = await freePort();
    const run = runCli(['up'], { STRANGLER_HOME: home, STRANGLER_PG_PORT: String(pgPort), MONOLITH_PORT: String(monolithPort) });
    try {
      await run.waitFor('strangler stack is up', 90_000);
      expect(run.output()).toMatch(new RegExp(`monolith\\s+http://127.0.0.1:${monolithPort}`));
      const users = (await (await fetch(`http://127.0.0.1:${monolithPort}/api/users?limit=100`)).json()) as { items: unknown[] };
      expect(users.items).toHaveLength(50);
      const state = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8'));
      const pids: number[] = state.components.map((c: { pid?: number }) => c.pid).filter(Boolean);
      const postmaster = Number(fs.readFileSync(path.join(home, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

      run.child.kill('SIGINT');
      expect((await run.exited()).code).toBe(0);
      expect(await isPortTaken(monolithPort)).toBe(false);
      expect(await isPortTaken(pgPort)).toBe(false);
      for (const pid of [...pids, postmaster]) expect(processAlive(pid)).toBe(false);
      expect(fs.existsSync(path.join(home, 'stack.json'))).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('refuses a taken port with one line and a non-zero exit', async () => {
    const home = tempStackHome();
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const run = runCli(['up'], { STRANGLER_HOME: home, STRANGLER_PG_PORT: String(await freePort()), MONOLITH_PORT: String(taken) });
      const { code } = await run.exited();
      expect(code).not.toBe(0);
      expect(run.output().trim()).toBe(`strangler: port ${taken} is already in use (needed by monolith); stop what runs there or set another port`);
    } finally {
      blocker.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
