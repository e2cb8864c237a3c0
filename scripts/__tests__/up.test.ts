import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isPortTaken, portForLater } from '../../lib/net/ports';
import { processAlive, runCli, tempStackHome } from '../../test/harness/cli';
import { eventually } from '../../test/harness/eventually';
import { PORT_ENV } from '../stack/topology';

/** Every port of the stack moved to a free one, so the test never collides with a running stack. */
async function freePorts(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of Object.values(PORT_ENV)) env[name] = String(await portForLater());
  return env;
}

jest.setTimeout(480_000);

describe('strangler up and strangler demo', () => {
  it('starts every component, serves the seeded shop through the facade, passes the demo, and Ctrl-C stops everything cleanly', async () => {
    const home = tempStackHome();
    const ports = await freePorts();
    const monolithPort = Number(ports.MONOLITH_PORT);
    const run = runCli(['up'], { STRANGLER_HOME: home, ...ports });
    try {
      // The table after 'stack is up' can arrive in a later chunk than that line: wait for the last line up prints.
      await run.waitFor('Ctrl-C stops everything.', 180_000);
      expect(run.output()).toMatch(new RegExp(`monolith\\s+http://127.0.0.1:${monolithPort}`));
      for (const name of ['postgres', 'unleash', 'kafka', 'users', 'orders', 'payments', 'notifications', 'facade']) expect(run.output()).toMatch(new RegExp(`\\n${name} `));
      const viaFacade = await fetch(`http://127.0.0.1:${ports.FACADE_PORT}/api/users?limit=100`);
      expect(viaFacade.headers.get('x-strangler-upstream')).toBe('monolith');
      const users = (await viaFacade.json()) as { items: unknown[] };
      expect(users.items).toHaveLength(50);
      expect(run.output()).toMatch(/admin token\s+strangler-[0-9a-f]{32}/);
      const state = JSON.parse(fs.readFileSync(path.join(home, 'private', 'stack.json'), 'utf8'));
      const pids: number[] = state.components.map((c: { pid?: number }) => c.pid).filter(Boolean);
      const postmaster = Number(fs.readFileSync(path.join(home, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      // Each component runs the JavaScript `npm run build` compiled, on the Node that runs the CLI (the project's
      // Node 24 under npm), never TypeScript compiled at start-up.
      expect(pids).toHaveLength(7);
      for (const pid of pids) {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        expect({ pid, argv: argv.slice(1) }).toEqual({ pid, argv: [expect.stringMatching(/\/dist\/.+\.js$/)] });
        expect(fs.realpathSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
      }

      // The workshop's smoke test against this very stack: every stage under load, gates, rollback, reconcile.
      const demo = runCli(['demo', '--context', 'users'], { STRANGLER_HOME: home });
      const demoExit = await demo.exited();
      if (demoExit.code !== 0) throw new Error(`strangler demo failed:\n${demo.output()}`);
      expect(demo.output()).toContain('demo passed');
      // The facade picks the demo's last flip up on its next flag poll.
      await eventually(async () => {
        const status = runCli(['status', '--json'], { STRANGLER_HOME: home });
        expect((await status.exited()).code).toBe(0);
        const usersContext = JSON.parse(status.output()).contexts.find((c: { name: string }) => c.name === 'users');
        expect(usersContext).toMatchObject({ stage: 'retired', pipelines: { forward: { state: 'streaming' }, reverse: { state: 'streaming' } } });
      }, 15_000, 500);

      run.child.kill('SIGINT');
      expect((await run.exited()).code).toBe(0);
      for (const port of Object.values(ports)) expect(await isPortTaken(Number(port))).toBe(false);
      for (const pid of [...pids, postmaster]) expect(processAlive(pid)).toBe(false);
      expect(fs.existsSync(path.join(home, 'private', 'stack.json'))).toBe(false);
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
      const run = runCli(['up'], { STRANGLER_HOME: home, ...(await freePorts()), MONOLITH_PORT: String(taken) });
      const { code } = await run.exited();
      expect(code).not.toBe(0);
      expect(run.output().trim()).toBe(`strangler: port ${taken} is already in use (needed by monolith (MONOLITH_PORT)); stop what runs there or set another port`);
    } finally {
      blocker.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
