import type { ContextStatus, StagePosition, SyncResult } from '../contracts';
import { PgControlStore, StageBusyError } from '../history/control-store';
import { GateRefusedError, StageError, StageMovedError, StageService } from '../stages/stage-service';
import { testPlan } from '../../facade/testing';
import { HttpCdcClient } from '../stages/cdc-client';
import { UnleashAdminClient } from '../flags/admin-client';
import { applyStage, readStage } from '../flags/stage-flags';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { startTestUnleash, type TestUnleash } from '../../test/harness/unleash';
import { startCdcStub, type CdcStub } from './cdc-stub';

jest.setTimeout(120_000);

/** The facade's numbers the gates read: good enough for every gate, or none at all. */
function status(context: string, good: boolean): ContextStatus {
  const n = good ? 500 : 0;
  return {
    name: context,
    stage: 'monolith',
    percent: 0,
    shadow: { sampleRate: 100, compared: n, matched: n, diffs: 0, diffRate: 0, errors: 0, writes: 'dryRun', writesMirrored: true },
    stickiness: { requests: n, withoutUser: 0, withoutUserShare: 0, fallback: 'none' },
    writeGuard: null,
    findings: [],
    breaker: 'closed',
    routes: [],
    service: { url: 'http://127.0.0.1:9', requests: n, failed: 0, errorRate: 0, windowSeconds: 300, lastFallbackAt: null },
    lastRollback: null,
    pipelines: null,
  };
}

describe('stage service (real Unleash, real Postgres for the lock and the history)', () => {
  let unleash: TestUnleash;
  let db: TestDatabase;
  let storeA: PgControlStore;
  let storeB: PgControlStore;
  let cdc: CdcStub;
  let admin: UnleashAdminClient;
  let good = false;
  const plan = testPlan({ monolith: 'http://127.0.0.1:9' });
  const service = (store: PgControlStore) =>
    new StageService({ plan, unleash: admin, store, cdc: new HttpCdcClient(cdc.url, 'stub-token'), contextStatus: async (c) => status(c, good), syncTimeoutMs: 2_000 });
  let stages: StageService;

  const at = async (context: string): Promise<StagePosition> => {
    const { stage, percent } = await readStage(admin, context);
    return { stage, percent };
  };
  const sideEffects = () => cdc.calls.filter((c) => /\/(extract|reverse)$/.test(c.path)).map((c) => c.path);

  beforeAll(async () => {
    [unleash, db, cdc] = await Promise.all([startTestUnleash(), createTestDatabase('control'), startCdcStub()]);
    admin = new UnleashAdminClient({ url: unleash.url, adminToken: unleash.adminToken });
    // Two stores are two processes' connections: the lock must hold between them.
    [storeA, storeB] = await Promise.all([PgControlStore.open(db.url), PgControlStore.open(db.url)]);
    stages = service(storeA);
  });
  afterAll(async () => {
    await Promise.all([storeA?.close(), storeB?.close()]);
    await Promise.all([unleash?.stop(), cdc?.close()]);
    await db?.drop();
  });
  beforeEach(() => {
    good = false;
    cdc.calls.length = 0;
    cdc.pipelines.length = 0;
    cdc.onSync = async () => ({ caughtUp: true, waitedMs: 1, lsn: '0/1' });
  });

  it('shadow → retired checks the gates of canary, cutover and retired, refuses with the whole list and changes nothing', async () => {
    await applyStage(admin, 'payments', 'shadow');
    const refused = await stages.move('payments', { stage: 'retired', percent: 100 }, { actor: 'cli' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GateRefusedError);
    const gates = (refused as GateRefusedError).results;
    expect([...new Set(gates.map((g) => g.stage))]).toEqual(['canary', 'cutover', 'retired']);
    expect(gates.filter((g) => !g.pass).map((g) => g.gate)).toEqual(['shadow.compared', 'shadow.diffRate', 'service.requests', 'service.errorRate', 'reverse.streaming', 'reverse.lag']);
    expect((refused as Error).message).toMatch(/^refusing payments → retired: gate shadow\.compared failed: 0 requests compared \(min 100\); .*gate service\.requests failed: 0 requests served/);
    expect(await at('payments')).toEqual({ stage: 'shadow', percent: 0 });
    expect(sideEffects()).toEqual([]);
    expect(await storeA.list({ context: 'payments', limit: 10 })).toEqual([]);
  });

  it('monolith → cutover checks shadow, canary and cutover gates; nothing is extracted when it is refused', async () => {
    const refused = (await stages.move('orders', { stage: 'cutover', percent: 100 }, { actor: 'cli' }).catch((e: unknown) => e)) as GateRefusedError;
    expect(refused).toBeInstanceOf(GateRefusedError);
    expect([...new Set(refused.results.map((g) => g.stage))]).toEqual(['shadow', 'canary', 'cutover']);
    expect(refused.results.find((g) => g.gate === 'forward.streaming')!.detail).toBe('pipeline orders-forward is absent; checked again after this move starts it');
    expect(sideEffects()).toEqual([]);
    expect(await at('orders')).toEqual({ stage: 'monolith', percent: 0 });
  });

  it('a refused shadow → canary does not start the reverse pipeline; once the gates pass it does, then flips and records', async () => {
    await applyStage(admin, 'users', 'shadow');
    await expect(stages.move('users', { stage: 'canary', percent: 10 }, { actor: 'cli' })).rejects.toThrow(
      /^refusing users → canary 10%: gate shadow\.compared failed: 0 requests compared \(min 100\); gate shadow\.diffRate failed: .* \(use --force to override\)$/,
    );
    // Only the reconcile gate asked the worker (it reads, it starts nothing).
    expect(cdc.calls.map((c) => c.path)).toEqual(['/contexts/users/reconcile']);
    expect(await at('users')).toEqual({ stage: 'shadow', percent: 0 });

    good = true;
    cdc.calls.length = 0;
    const moved = await stages.move('users', { stage: 'canary', percent: 10 }, { actor: 'cli', reason: 'numbers look fine' });
    // Reconcile (a gate) first, then the side effect, then read-your-writes, then the flags.
    expect(cdc.calls.map((c) => c.path)).toEqual(['/contexts/users/reconcile', '/contexts/users/reverse', '/contexts/users/sync']);
    expect(moved).toMatchObject({ direction: 'forward', forced: false, sync: { direction: 'forward', caughtUp: true } });
    expect(moved.gates.every((g) => g.pass && g.stage === 'canary')).toBe(true);
    expect(await at('users')).toEqual({ stage: 'canary', percent: 10 });
    const [entry] = await storeA.list({ context: 'users', limit: 1 });
    expect(entry).toMatchObject({ actor: 'cli', from: { stage: 'shadow', percent: 0 }, to: { stage: 'canary', percent: 10 }, reason: 'numbers look fine', forced: false });
    expect(entry.gates.map((g) => g.gate)).toEqual(['shadow.compared', 'shadow.diffRate', 'writes.violations', 'reconcile.clean']);
  });

  it('monolith → shadow extracts first, then checks the forward pipeline the extraction started', async () => {
    await applyStage(admin, 'notifications', 'monolith');
    const moved = await stages.advance('notifications', { actor: 'cli' });
    expect(cdc.calls.map((c) => c.path)).toEqual(['/contexts/notifications/extract', '/contexts/notifications/sync']);
    expect(moved.gates.map((g) => [g.gate, g.pass])).toEqual([
      ['forward.streaming', true],
      ['forward.lag', true],
    ]);
    expect(await at('notifications')).toEqual({ stage: 'shadow', percent: 0 });
  });

  it('--force moves past failing gates of skipped stages and says so in the history', async () => {
    await applyStage(admin, 'payments', 'shadow');
    const moved = await stages.move('payments', { stage: 'cutover', percent: 100 }, { actor: 'cli', force: true, reason: 'workshop' });
    expect(moved.forced).toBe(true);
    expect(await at('payments')).toEqual({ stage: 'cutover', percent: 100 });
    const [entry] = await storeA.list({ context: 'payments', limit: 1 });
    expect(entry).toMatchObject({ forced: true, reason: 'workshop', to: { stage: 'cutover' } });
    expect(entry.gates.some((g) => !g.pass)).toBe(true);
  });

  it('a rollback waits for the reverse pipeline, bounded, and is not blocked when it does not catch up', async () => {
    await applyStage(admin, 'payments', 'cutover');
    const asked: { direction: string; timeoutMs: number; stageThen: string }[] = [];
    cdc.onSync = async (context, direction, timeoutMs): Promise<SyncResult> => {
      asked.push({ direction, timeoutMs, stageThen: (await at(context)).stage });
      return { caughtUp: false, waitedMs: timeoutMs, lsn: '0/2' };
    };
    const moved = await stages.rollback('payments', { actor: 'cli' });
    // The wait happens while traffic is still on the service side, and the flip happens anyway.
    expect(asked).toEqual([{ direction: 'reverse', timeoutMs: 2_000, stageThen: 'cutover' }]);
    expect(moved).toMatchObject({ direction: 'rollback', sync: { direction: 'reverse', caughtUp: false } });
    expect(moved.warnings).toContain('the reverse pipeline did not apply the latest writes within 2000 ms; flipped anyway (a rollback is never blocked)');
    expect((await at('payments')).stage).toBe('canary');
  });

  it('two moves of the same context at once: one wins, the other is refused and changes nothing', async () => {
    await applyStage(admin, 'orders', 'canary', 10);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inSync = new Promise<void>((r) => (entered = r));
    cdc.onSync = async () => {
      entered();
      await held;
      return { caughtUp: true, waitedMs: 5, lsn: '0/3' };
    };
    const first = stages.rollback('orders', { actor: 'cli' });
    await inSync;
    const second = service(storeB).move('orders', { stage: 'monolith', percent: 0 }, { actor: 'dashboard' });
    await expect(second).rejects.toBeInstanceOf(StageBusyError);
    await expect(second).rejects.toThrow('another stage move of orders is in progress (CLI, dashboard or automatic rollback); nothing was changed, try again once it is done');
    expect(await at('orders')).toEqual({ stage: 'canary', percent: 10 });
    release();
    await expect(first).resolves.toMatchObject({ to: { stage: 'shadow' } });
    expect(await at('orders')).toEqual({ stage: 'shadow', percent: 0 });
    const entries = await storeA.list({ context: 'orders', limit: 10 });
    expect(entries.map((e) => [e.actor, e.to.stage])).toEqual([['cli', 'shadow']]);
  });

  it('compare-and-set: two replicas roll the same context back from the stage each saw; the second moves and records nothing', async () => {
    await applyStage(admin, 'notifications', 'cutover');
    cdc.onSync = async () => ({ caughtUp: true, waitedMs: 1, lsn: '0/4' });
    const seen = { stage: 'cutover' as const, percent: 100 };
    const first = await stages.move('notifications', { stage: 'canary', percent: 50 }, { actor: 'auto-rollback', reason: 'replica a', expect: seen });
    expect(first).toMatchObject({ from: seen, to: { stage: 'canary', percent: 50 } });
    // Replica b saw cutover too, and its target is now the current stage; one step further would be a second rollback.
    for (const target of [{ stage: 'canary' as const, percent: 50 }, { stage: 'shadow' as const, percent: 0 }]) {
      const second = service(storeB).move('notifications', target, { actor: 'auto-rollback', reason: 'replica b', expect: seen });
      await expect(second).rejects.toBeInstanceOf(StageMovedError);
      await expect(second).rejects.toThrow('notifications is at canary 50%, no longer at cutover: moved already; nothing to do');
    }
    expect(await at('notifications')).toEqual({ stage: 'canary', percent: 50 });
    const entries = (await storeA.list({ context: 'notifications', limit: 10 })).filter((e) => e.actor === 'auto-rollback');
    expect(entries.map((e) => [e.from.stage, e.to.stage, e.reason])).toEqual([['cutover', 'canary', 'replica a']]);
  });

  it('with the toolkit\'s database down, a rollback still goes ahead (with a warning) and a forward move is refused', async () => {
    const gone = await createTestDatabase('control_gone');
    const store = await PgControlStore.open(gone.url);
    try {
      await gone.drop();
      await applyStage(admin, 'notifications', 'canary', 10);
      const moved = await service(store).rollback('notifications', { actor: 'auto-rollback' });
      expect(moved.to).toEqual({ stage: 'shadow', percent: 0 });
      expect(moved.warnings.join(' ')).toMatch(/^the toolkit's database \(stage lock and history\) is unavailable: .*: rolled back without the stage lock, and the move is not in the history/);
      expect(await at('notifications')).toEqual({ stage: 'shadow', percent: 0 });
      good = true;
      await expect(service(store).advance('notifications', { actor: 'cli' })).rejects.toThrow(/^refusing notifications → canary 10%: the toolkit's database .* only a rollback goes ahead without the stage lock$/);
      expect(await at('notifications')).toEqual({ stage: 'shadow', percent: 0 });
      expect(sideEffects()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.each([
    ['nope', { stage: 'shadow', percent: 0 }, 'unknown context "nope"'],
    ['users', { stage: 'canary', percent: 10 }, 'users is already at canary 10%; nothing to do'],
  ] as const)('refuses %s → %j with one line and no change', async (context, target, message) => {
    await applyStage(admin, 'users', 'canary', 10);
    const before = await storeA.list({ limit: 100 });
    const err = (await stages.move(context, target, { actor: 'cli' }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(StageError);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('\n');
    expect(await storeA.list({ limit: 100 })).toEqual(before);
    expect(cdc.calls).toEqual([]);
  });
});
