import net from 'node:net';
import { pollUntil } from '../retry';

/** Asks the OS for a free port on 127.0.0.1 (tests, so parallel files never collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something already accepts connections on host:port. */
export function isPortTaken(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until host:port accepts connections, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  if (await pollUntil(() => isPortTaken(port, host), { timeoutMs, intervalMs: 100 })) return;
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}
