import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rawExchange } from '../../test/faults/support/raw-http';
import { startTestFacade, testPlan, type TestFacade } from '../testing';

jest.setTimeout(60_000);

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An upstream that answers in pieces, with repeated headers and a reason phrase of its own, and echoes what it got. */
async function startUpstream() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url === '/relay/stream') {
        res.statusCode = 201;
        res.statusMessage = 'Made Here';
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.setHeader('x-upstream', 'yes');
        res.write('one,');
        // The rest only after the client has the first piece on its way: the body streams, it is not collected.
        setTimeout(() => {
          res.write('two,');
          res.end('three');
        }, 20);
      } else if (req.url === '/relay/empty') {
        res.writeHead(204, { 'x-upstream': 'yes' });
        res.end();
      } else {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(Buffer.concat(chunks));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(url: string, method: string, path: string, body?: Buffer, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ res: http.IncomingMessage; body: string }>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the facade relays an upstream’s response as the upstream sent it', () => {
  let facade: TestFacade;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  beforeAll(async () => {
    upstream = await startUpstream();
    facade = await startTestFacade({ plan: testPlan({ monolith: upstream.url }) });
  });
  afterAll(async () => {
    await facade?.destroy();
    await upstream?.stop();
  });

  it('status, reason phrase, every header (repeated ones too) and a streamed body, next to its own headers', async () => {
    const { res, body } = await send(facade.url, 'GET', '/relay/stream');
    expect(res.statusCode).toBe(201);
    expect(res.statusMessage).toBe('Made Here');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers).toMatchObject({ 'x-upstream': 'yes', 'transfer-encoding': 'chunked', 'x-strangler-upstream': 'monolith', 'x-strangler-context': 'none' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toBe('one,two,three');
  });

  it('no chunked framing for a 204, nor for an HTTP/1.0 client', async () => {
    const empty = await send(facade.url, 'GET', '/relay/empty');
    expect(empty.res.statusCode).toBe(204);
    expect(empty.res.headers['transfer-encoding']).toBeUndefined();
    expect(empty.res.headers['x-upstream']).toBe('yes');

    const old = await rawExchange(facade.facade.server.port, 'GET /relay/stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    expect(old.status).toBe(201);
    expect(old.headers['transfer-encoding']).toBeUndefined();
    expect(old.headers.connection).toBe('close');
    expect(old.body).toBe('one,two,three');
  });

  it('sends the exact request bytes: a streamed body, a held (chunked) one, and none for a request without one', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x41, 0xc3, 0x28]);
    const streamed = await send(facade.url, 'POST', '/relay/echo?streamed', bytes, { 'content-length': bytes.length });
    expect(Buffer.from(streamed.body, 'latin1')).toEqual(bytes);
    // Without a Content-Length the facade holds the body (to enforce its size limit) and sends what it holds.
    const held = await send(facade.url, 'PUT', '/relay/echo?held', bytes, { 'transfer-encoding': 'chunked' });
    expect(Buffer.from(held.body, 'latin1')).toEqual(bytes);
    await send(facade.url, 'GET', '/relay/echo?none');
    await send(facade.url, 'DELETE', '/relay/echo?delete');

    const byUrl = new Map(upstream.seen.map((s) => [s.url, s]));
    expect(byUrl.get('/relay/echo?streamed')).toMatchObject({ method: 'POST', headers: expect.objectContaining({ 'content-length': String(bytes.length) }) });
    expect(byUrl.get('/relay/echo?held')?.body).toEqual(bytes);
    const none = byUrl.get('/relay/echo?none')!;
    expect(none.body.length).toBe(0);
    expect(none.headers['content-length']).toBeUndefined();
    expect(none.headers['transfer-encoding']).toBeUndefined();
    // The engine declares an empty body on a DELETE without one (some servers wait for a body otherwise).
    expect(byUrl.get('/relay/echo?delete')?.headers['content-length']).toBe('0');
  });
});
