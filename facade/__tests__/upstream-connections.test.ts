import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import request from 'supertest';
import { startTestFacade, testPlan, type TestFacade } from '../testing';

jest.setTimeout(60_000);

/**
 * A real upstream (Node's own HTTP server, as every extracted service is) whose idle connections close sooner than
 * the facade's default, and which can drop a kept-alive connection the moment the next request arrives on it: what
 * a client sees when the server closes an idle connection just as the request is written.
 */
async function startUpstream(keepAliveTimeoutMs: number) {
  const sockets: { socket: Socket; closedAt?: number }[] = [];
  const received: string[] = [];
  let dropReused = false;
  const server = http.createServer((req, res) => {
    const served = (req.socket as Socket & { served?: number }).served ?? 0;
    (req.socket as Socket & { served?: number }).served = served + 1;
    if (dropReused && served > 0) {
      req.socket.destroy();
      return;
    }
    received.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    const entry: { socket: Socket; closedAt?: number } = { socket };
    sockets.push(entry);
    socket.on('close', () => (entry.closedAt = Date.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    received,
    dropReusedConnections: () => (dropReused = true),
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// A client's `Connection: close` is passed on to the upstream (which then closes after answering): these requests
// say keep-alive, as a browser's or a pooled client's do, so the facade's connection stays in its pool.
const get = (url: string, path: string) => request(url).get(path).set('connection', 'keep-alive');

describe('the facade’s pooled connections to an upstream', () => {
  let facade: TestFacade | undefined;
  let upstream: Awaited<ReturnType<typeof startUpstream>> | undefined;

  afterEach(async () => {
    await facade?.destroy();
    await upstream?.stop();
    facade = undefined;
    upstream = undefined;
  });

  it('closes an idle connection before the upstream does, going by its Keep-Alive hint', async () => {
    // Node sends `Keep-Alive: timeout=2`: the facade should give the connection up after about 1 s idle.
    upstream = await startUpstream(2_000);
    facade = await startTestFacade({ plan: testPlan({ monolith: upstream.url }) });
    const res = await get(facade.url, '/api/users/1');
    expect(res.status).toBe(200);
    expect(upstream.sockets).toHaveLength(1);
    const answeredAt = Date.now();
    await new Promise((r) => setTimeout(r, 1_700));
    // The upstream would close it only at 2 s (plus Node's grace): closed before that means the facade did.
    const closedAt = upstream.sockets[0].closedAt;
    expect(closedAt).toBeDefined();
    expect(closedAt! - answeredAt).toBeLessThan(1_900);
  });

  it('sends a read again, once, when the pooled connection it went out on was just closed by the upstream', async () => {
    upstream = await startUpstream(60_000);
    facade = await startTestFacade({ plan: testPlan({ monolith: upstream.url }) });
    expect((await get(facade.url, '/api/users/1')).status).toBe(200);
    upstream.dropReusedConnections();
    // Without the second try this is a 503 (`upstream_unavailable`), though the upstream is up.
    const res = await get(facade.url, '/api/users/2');
    expect(res.status).toBe(200);
    expect(res.headers['x-strangler-upstream']).toBe('monolith');
    expect(upstream.received).toEqual(['GET /api/users/1', 'GET /api/users/2']);
    expect(upstream.sockets.length).toBe(2);
  });

  it('never sends a write twice: a POST on a dropped connection is answered 503, not retried', async () => {
    upstream = await startUpstream(60_000);
    facade = await startTestFacade({ plan: testPlan({ monolith: upstream.url }) });
    expect((await get(facade.url, '/api/users/1')).status).toBe(200);
    upstream.dropReusedConnections();
    const res = await request(facade.url).post('/api/users').set('connection', 'keep-alive').send({ email: 'ada@example.com' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('upstream_unavailable');
    expect(upstream.received).toEqual(['GET /api/users/1']);
    expect(upstream.sockets.length).toBe(1);
  });
});
