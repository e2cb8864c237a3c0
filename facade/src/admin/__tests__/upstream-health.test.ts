import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { upstream } from '../../upstreams/upstream';
import { UpstreamHealthChecker } from '../upstream-health';

/** A real upstream whose /health answers what the test says. */
async function serve(status: number, body: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('upstream health', () => {
  it('passes on the notices a service lists in its /health, healthy or not, and nothing else of its body', async () => {
    const ok = await serve(200, JSON.stringify({ status: 'ok', notices: ['workshop bug on: x-rounded', 42], secret: 'no' }));
    const down = await serve(503, JSON.stringify({ status: 'unavailable', notices: ['workshop fault: down since then'] }));
    const plain = await serve(200, 'not json');
    try {
      const health = await new UpstreamHealthChecker([upstream('a', ok.url), upstream('b', down.url), upstream('c', plain.url)]).check();
      expect(health.a).toEqual({ status: 'ok', ms: expect.any(Number), notices: ['workshop bug on: x-rounded'] });
      expect(health.b).toEqual({ status: 'down', ms: expect.any(Number), error: 'HTTP 503', notices: ['workshop fault: down since then'] });
      expect(health.c).toEqual({ status: 'ok', ms: expect.any(Number) });
    } finally {
      await Promise.all([ok.close(), down.close(), plain.close()]);
    }
  });
});
