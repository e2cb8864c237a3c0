import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/project';
import { portForLater } from '../../lib/net/ports';
import { ensureBuilt } from '../../test/harness/build';
import { createTestDatabase, type TestDatabase } from '../../test/harness/database';
import { eventually } from '../../test/harness/eventually';
import { TEST_INTERNAL_SECRET } from '../../test/harness/internal';

jest.setTimeout(120_000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A GET over a fresh connection each time (no agent), so the kernel picks a process per request. */
const get = (url: string) =>
  new Promise<{ status: number; upstream: string | undefined }>((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, upstream: res.headers['x-strangler-upstream'] as string | undefined }));
      })
      .on('error', reject);
  });

describe('the facade as one process per core (FACADE_PROCESSES)', () => {
  let db: TestDatabase;
  let upstream: http.Server;
  let facade: ChildProcess | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    ensureBuilt();
    db = await createTestDatabase('facade');
    upstream = http.createServer((req, res) => res.end(JSON.stringify({ path: req.url })));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    if (facade?.exitCode === null) facade.kill('SIGKILL');
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await db.drop();
  });

  it('serves on one port from several processes, replaces a worker that dies, and stops them all on SIGTERM', async () => {
    const port = await portForLater();
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    facade = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'facade', 'src', 'main.js')], {
      env: {
        ...process.env,
        PORT: String(port),
        FACADE_PROCESSES: '2',
        FACADE_DATABASE_URL: db.url,
        STRANGLER_ADMIN_TOKEN: 'test-admin-token-0123456789',
        STRANGLER_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
        STRANGLER_PLAN: '',
        UNLEASH_URL: '',
        STRANGLER_CDC_URL: '',
        LOG_LEVEL: 'info',
        MONOLITH_URL: upstreamUrl,
        USERS_URL: upstreamUrl,
        ORDERS_URL: upstreamUrl,
        PAYMENTS_URL: upstreamUrl,
        NOTIFICATIONS_URL: upstreamUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [facade.stdout!, facade.stderr!]) stream.on('data', (d: Buffer) => output.push(...d.toString().split('\n')));
    const workers = () => [...new Set(output.filter((l) => l.includes('"facade listening"')).map((l) => (JSON.parse(l) as { pid: number }).pid))];
    await eventually(() => expect(workers()).toHaveLength(2), 60_000, 200);

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`http://127.0.0.1:${port}/api/payments/${i}`)));
    expect(answers.every((a) => a.status === 200 && a.upstream === 'monolith')).toBe(true);

    // A worker that dies is replaced, and the port keeps answering meanwhile.
    const [first, second] = workers();
    process.kill(first, 'SIGKILL');
    await eventually(() => expect(workers()).toHaveLength(3), 60_000, 200);
    for (let i = 0; i < 10; i++) expect((await get(`http://127.0.0.1:${port}/api/payments/${i}`)).status).toBe(200);

    const exited = new Promise<number | null>((resolve) => facade!.once('exit', (code) => resolve(code)));
    facade.kill('SIGTERM');
    expect(await exited).toBe(0);
    const third = workers()[2];
    await eventually(() => expect([second, third].filter(alive)).toEqual([]), 10_000, 100);
  });
});
