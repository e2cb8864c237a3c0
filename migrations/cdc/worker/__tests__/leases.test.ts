import { Client } from 'pg';
import { createLogger } from '../../../../lib/logger';
import { createTestDatabase, type TestDatabase } from '../../../../test/harness/database';
import { eventually } from '../../../../test/harness/eventually';
import { leaseKey, lockIds, LeaseSession } from '../leases';
import { PipelineRegistry } from '../registry';

const silent = createLogger('lease-test', 'silent');

describe('pipeline lease keys', () => {
  it('are the same 64-bit key for the same name on every worker, and differ between pipelines', () => {
    expect(leaseKey('users-forward')).toBe(leaseKey('users-forward'));
    expect(leaseKey('users-forward')).not.toBe(leaseKey('users-reverse'));
    // Fixed by the name alone: a worker of another version (or a changed hash) would run a pipeline twice.
    expect(leaseKey('users-forward')).toBe(-2037974212065661158n);
  });

  it('split into the two oids pg_locks shows, also for a negative key', () => {
    const key = -2n;
    expect(lockIds(key)).toEqual({ classid: String(0xffffffffn), objid: String(0xfffffffen) });
    expect(lockIds(0x0000000100000002n)).toEqual({ classid: '1', objid: '2' });
  });
});

describe('pipeline leases in the toolkit database', () => {
  let db: TestDatabase;
  let registry: PipelineRegistry;
  const sessions: LeaseSession[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('leases');
    registry = await PipelineRegistry.open(db.url);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await registry?.close();
    await db?.drop();
  });

  const open = async (id: string, onLost: (why: string) => void = () => undefined) => {
    const s = await LeaseSession.open(db.url, id, silent, onLost);
    sessions.push(s);
    return s;
  };

  it('one holder per pipeline; the other worker is a standby until the holder\'s session ends, then takes it', async () => {
    const lost: string[] = [];
    const a = await open('worker-a', (why) => lost.push(why));
    const b = await open('worker-b');
    expect(await a.tryAcquire('users-forward')).toBe(true);
    expect(await a.tryAcquire('users-forward')).toBe(true);
    expect(await b.tryAcquire('users-forward')).toBe(false);
    expect(await b.tryAcquire('users-reverse')).toBe(true);

    let table = await registry.leases(['users-forward', 'users-reverse', 'orders-forward']);
    expect(Object.fromEntries(table.holders)).toEqual({ 'users-forward': 'worker-a', 'users-reverse': 'worker-b' });
    expect(table.workers.map((w) => w.id)).toEqual(['worker-a', 'worker-b']);

    // What a SIGKILL does to the holder's connection, seen from the server: its session ends and its locks go.
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [a.backendPid]);
    } finally {
      await admin.end();
    }
    await eventually(() => expect(lost).toHaveLength(1), 5_000, 50);
    expect(a.alive).toBe(false);
    expect(a.holds('users-forward')).toBe(false);
    expect(await b.tryAcquire('users-forward')).toBe(true);
    table = await registry.leases(['users-forward', 'users-reverse']);
    expect(Object.fromEntries(table.holders)).toEqual({ 'users-forward': 'worker-b', 'users-reverse': 'worker-b' });
    // The dead worker's row stays in cdc_workers, but it is not alive: not listed.
    expect(table.workers.map((w) => w.id)).toEqual(['worker-b']);
  });

  it('a released lease is free at once; a worker that comes back under the same id is one worker', async () => {
    const c = await open('worker-c');
    expect(await c.tryAcquire('orders-forward')).toBe(true);
    await c.release('orders-forward');
    const again = await open('worker-c');
    expect(await again.tryAcquire('orders-forward')).toBe(true);
    await again.publish([{ name: 'orders-forward', state: 'streaming' }]);
    const table = await registry.leases(['orders-forward']);
    expect(table.holders.get('orders-forward')).toBe('worker-c');
    expect(table.workers.find((w) => w.id === 'worker-c')?.views).toEqual([{ name: 'orders-forward', state: 'streaming' }]);
  });
});
