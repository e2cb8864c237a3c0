import fs from 'node:fs';
import path from 'node:path';
import { tempStackHome } from '../../../test/harness/cli';
import { logStream, openLog, prepareHome, readStackState, stackPaths, writeStackState } from '../home';
import { loadOrCreateSecrets } from '../secrets';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('stack home: secrets and logs readable by their owner only', () => {
  let home: string;
  beforeEach(() => {
    home = tempStackHome();
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('keeps the tokens and stack.json as 0600 files in a 0700 folder, logs 0600 in a 0700 folder, the home 0711', () => {
    const paths = prepareHome(home);
    const secrets = loadOrCreateSecrets(home);
    writeStackState({ startedAt: 'now', pid: 1, components: [], adminToken: secrets.adminToken, postgresUrl: 'postgres://postgres:postgres@127.0.0.1:5433/postgres' }, home);
    const fd = openLog(path.join(paths.logs, 'users.log'));
    fs.closeSync(fd);
    const stream = logStream(path.join(paths.logs, 'kafka.log'));
    stream.end('line\n');
    expect({
      home: mode(home),
      private: mode(paths.private),
      secrets: mode(paths.secretsFile),
      state: mode(paths.stateFile),
      logs: mode(paths.logs),
      log: mode(path.join(paths.logs, 'users.log')),
      stream: mode(path.join(paths.logs, 'kafka.log')),
    }).toEqual({ home: 0o711, private: 0o700, secrets: 0o600, state: 0o600, logs: 0o700, log: 0o600, stream: 0o600 });
    expect(readStackState(home)?.adminToken).toBe(secrets.adminToken);
    // Nothing with a secret in it is left where others can list or read.
    for (const entry of fs.readdirSync(home)) expect(['private', 'logs']).toContain(entry);
  });

  it('tightens a home made by an older version: world-readable secrets.json and stack.json move into private/, logs become 0600', () => {
    fs.writeFileSync(path.join(home, 'secrets.json'), JSON.stringify({ unleashSecret: 'u'.repeat(32), adminToken: 'strangler-old-admin-token' }), { mode: 0o644 });
    fs.writeFileSync(path.join(home, 'stack.json'), '{"adminToken":"strangler-old-admin-token"}', { mode: 0o644 });
    fs.mkdirSync(path.join(home, 'logs'), { mode: 0o755 });
    fs.writeFileSync(path.join(home, 'logs', 'facade.log'), 'old\n', { mode: 0o644 });
    const paths = prepareHome(home);
    expect(fs.existsSync(path.join(home, 'secrets.json'))).toBe(false);
    expect(fs.existsSync(path.join(home, 'stack.json'))).toBe(false);
    expect({ logs: mode(paths.logs), log: mode(path.join(paths.logs, 'facade.log')), secrets: mode(paths.secretsFile) }).toEqual({ logs: 0o700, log: 0o600, secrets: 0o600 });
    // The old tokens are kept (Unleash only accepts the ones it was first seeded with); the new secret is added.
    const secrets = loadOrCreateSecrets(home);
    expect(secrets).toMatchObject({ unleashSecret: 'u'.repeat(32), adminToken: 'strangler-old-admin-token', internalSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(loadOrCreateSecrets(home)).toEqual(secrets);
    expect(mode(stackPaths(home).secretsFile)).toBe(0o600);
  });
});
