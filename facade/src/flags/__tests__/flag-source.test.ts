import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../../lib/logger';
import { flagNames } from '../../../../control/plan';
import { BackupFile } from '../backup-file';
import { UnleashFlags } from '../flag-source';

/** Nothing listens on port 9: Unleash is down for these flags. */
const UNLEASH_DOWN = 'http://127.0.0.1:9';

describe('flags when Unleash is down', () => {
  let dir: string;
  let flags: UnleashFlags | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strangler-flags-'));
  });
  afterEach(async () => {
    await flags?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = () => new UnleashFlags(['users', 'payments'], { url: UNLEASH_DOWN, refreshMs: 60_000, backupDir: dir, logger: createLogger('test', 'silent') });

  it('are the backup file\'s once ready() resolves: a restarted facade takes no request on default flags', async () => {
    const names = flagNames('users');
    new BackupFile(dir).write('strangler-facade', {
      version: 2,
      features: [
        { name: names.route, enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '50', stickiness: 'userId', groupId: names.route } }] },
        { name: names.shadow, enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: names.shadow } }] },
        { name: flagNames('payments').retired, enabled: true, strategies: [] },
      ],
      segments: [],
    });
    flags = open();
    await flags.ready(10_000);
    expect(flags.state('users')).toMatchObject({ stage: 'canary', percent: 50 });
    expect(flags.state('payments').stage).toBe('retired');
    // The sticky split is the one Unleash's rollout gives, not everyone to one side.
    const onService = Array.from({ length: 200 }, (_, i) => flags!.routeToService('users', `u${i}`)).filter(Boolean).length;
    expect(onService).toBeGreaterThan(60);
    expect(onService).toBeLessThan(140);
    expect(flags.health().state).toBe('stale');
  });

  it('resolve ready() at the first failed fetch when there is no backup: everything on the monolith, health none', async () => {
    flags = open();
    // Waiting for the bound instead would outlast this test's own timeout.
    await flags.ready(120_000);
    expect(flags.state('users').stage).toBe('monolith');
    expect(flags.health().state).toBe('none');
  }, 20_000);
});
