import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: http.Server;
  port: number;
  url: string;
  /** Stops accepting, lets requests in flight finish for `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** Listens on 127.0.0.1 by default (port 0 = any free port) and closes idle keep-alive sockets on shutdown. */
export async function listen(
  handler: http.RequestListener,
  port: number,
  host = process.env.HOST ?? '127.0.0.1',
): Promise<RunningServer> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`,
    close: (graceMs = 3000) =>
      new Promise<void>((resolve) => {
        // Busy keep-alive connections never go idle under load: after a grace period for requests in flight, cut
        // them, or a process could not be stopped (or redeployed) while clients keep it busy.
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
