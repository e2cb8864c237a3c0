import fs from 'node:fs';
import { InMemStorageProvider, Unleash, UnleashEvents } from 'unleash-client';
import { eventually } from '../../../test/harness/eventually';
import { startTestUnleash, type TestUnleash } from '../../../test/harness/unleash';
import {
  FlagNotFoundError,
  UnleashAdminClient,
  UnleashAuthError,
  UnleashUnavailableError,
} from '../admin-client';

/** Resident memory of a process in MiB (Linux), for the start-up report. */
function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

describe('UnleashAdminClient against a real Unleash server', () => {
  let unleash: TestUnleash;
  let admin: UnleashAdminClient;
  let sdk: Unleash | undefined;
  const sdkErrors: unknown[] = [];

  beforeAll(async () => {
    unleash = await startTestUnleash();
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    console.log(`Unleash started in ${unleash.startupMs} ms, RSS ${rssMiB(unleash.pid) ?? '?'} MiB (pid ${unleash.pid})`);
  }, 120_000);

  afterAll(async () => {
    sdk?.destroy();
    if (unleash) {
      console.log(`Unleash RSS after the tests: ${rssMiB(unleash.pid) ?? '?'} MiB`);
      await unleash.stop();
    }
  }, 30_000);

  async function startSdk(): Promise<Unleash> {
    const client = new Unleash({
      url: `${unleash.url}/api/`,
      appName: 'strangler-admin-client-test',
      customHeaders: { Authorization: unleash.clientToken },
      refreshInterval: 1000,
      disableMetrics: true,
      // Keeps the test from writing a backup file into the OS temp dir.
      storageProvider: new InMemStorageProvider(),
      skipInstanceCountWarning: true,
    });
    // An EventEmitter 'error' without a listener would crash the worker; failures are asserted on instead.
    client.on(UnleashEvents.Error, (err) => sdkErrors.push(err));
    await new Promise<void>((resolve) => client.once(UnleashEvents.Synchronized, () => resolve()));
    return client;
  }

  it('creates a flag, rolls it out to 30 % and enables it, as read back through the admin API', async () => {
    const name = 'checkout.extract';
    expect(await admin.ensureFlag(name)).toEqual({ created: true });
    expect(await admin.ensureFlag(name)).toEqual({ created: false });

    await admin.setRollout(name, 30);
    await admin.enable(name);

    const flag = await admin.getFlag(name);
    expect(flag).toEqual({
      name,
      enabled: true,
      strategies: [
        {
          id: expect.any(String),
          name: 'flexibleRollout',
          parameters: { rollout: '30', stickiness: 'userId', groupId: name },
        },
      ],
    });
    expect(await admin.listFlags('checkout.')).toEqual([{ name, type: 'release', enabled: true, stale: false }]);

    // Updating keeps the one strategy (same id) instead of adding a second one that would OR with it.
    const updated = await admin.setRollout(name, 60);
    expect(updated.strategies).toHaveLength(1);
    expect(updated.strategies[0]).toMatchObject({ id: flag.strategies[0].id, parameters: { rollout: '60' } });

    await admin.disable(name);
    expect((await admin.getFlag(name)).enabled).toBe(false);
  });

  it('collapses the 100 % strategy Unleash adds when a flag without strategies is enabled', async () => {
    const name = 'orders.enabled-first';
    await admin.ensureFlag(name);
    await admin.enable(name);
    expect((await admin.getFlag(name)).strategies).toEqual([
      expect.objectContaining({ name: 'flexibleRollout', parameters: expect.objectContaining({ rollout: '100' }) }),
    ]);

    const flag = await admin.setRollout(name, 10);
    expect(flag.strategies).toHaveLength(1);
    expect(flag.strategies[0].parameters).toEqual({ rollout: '10', stickiness: 'userId', groupId: name });
  });

  it('reports missing flags, bad tokens, bad input and an unreachable server with explicit errors', async () => {
    await expect(admin.getFlag('does.not.exist')).rejects.toBeInstanceOf(FlagNotFoundError);
    await expect(admin.enable('does.not.exist')).rejects.toBeInstanceOf(FlagNotFoundError);
    await expect(admin.setRollout('does.not.exist', 10)).rejects.toBeInstanceOf(FlagNotFoundError);
    await expect(admin.setRollout('checkout.extract', 101)).rejects.toBeInstanceOf(RangeError);
    await expect(admin.setRollout('checkout.extract', 12.5)).rejects.toBeInstanceOf(RangeError);
    // A different token than the real one: Unleash caches it as invalid, which cannot affect ours.
    const stranger = new UnleashAdminClient({ url: unleash.url, adminToken: '*:*.not-a-real-token' });
    await expect(stranger.listFlags()).rejects.toBeInstanceOf(UnleashAuthError);
    const nowhere = new UnleashAdminClient({ url: 'http://127.0.0.1:1', adminToken: unleash.adminToken });
    await expect(nowhere.listFlags()).rejects.toBeInstanceOf(UnleashUnavailableError);
  });

  it('a flag flipped through the admin client reaches a real unleash-client within 2 s', async () => {
    const name = 'catalog.flip';
    await admin.ensureFlag(name);
    await admin.setRollout(name, 100);
    sdk = await startSdk();
    const client = sdk;
    const user = { userId: 'user-1' };
    expect(client.isEnabled(name, user)).toBe(false);

    const seenWithin = async (expected: boolean) => {
      const from = Date.now();
      await eventually(() => expect(client.isEnabled(name, user)).toBe(expected), 2_000, 10);
      return Date.now() - from;
    };
    await admin.enable(name);
    const onMs = await seenWithin(true);
    await admin.disable(name);
    const offMs = await seenWithin(false);
    console.log(`flag change seen by unleash-client after ${onMs} ms (on) and ${offMs} ms (off)`);
    expect(sdkErrors).toEqual([]);
  });

  it('at 50 % the same userId always gets the same answer and about half of 1000 users get true', async () => {
    const name = 'payments.half';
    await admin.ensureFlag(name);
    await admin.setRollout(name, 50);
    await admin.enable(name);
    const client = sdk ?? (sdk = await startSdk());
    await eventually(() => {
      expect(client.getFeatureToggleDefinition(name)?.enabled).toBe(true);
      expect(client.getFeatureToggleDefinition(name)?.strategies?.[0]?.parameters?.rollout).toBe('50');
    }, 5_000, 20);

    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const first = users.map((userId) => client.isEnabled(name, { userId }));
    for (let round = 0; round < 5; round++) {
      expect(users.map((userId) => client.isEnabled(name, { userId }))).toEqual(first);
    }
    // Other context does not move a user: only the userId feeds the hash.
    expect(users.map((userId, i) => client.isEnabled(name, { userId, sessionId: `s-${i}-${randomId()}` }))).toEqual(first);

    const share = first.filter(Boolean).length / users.length;
    expect(share).toBeGreaterThanOrEqual(0.42);
    expect(share).toBeLessThanOrEqual(0.58);
    // userId stickiness never falls back to a random bucket: without a userId the flag stays off.
    expect(Array.from({ length: 50 }, () => client.isEnabled(name, { sessionId: `anon-${randomId()}` }))).not.toContain(true);
    expect(sdkErrors).toEqual([]);
  });
});

function randomId(): string {
  return Math.random().toString(36).slice(2);
}
