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

const handedOut = new Set<number>();

/**
 * A free port for a server that binds it later, or binds it again after a restart (the local stack's components,
 * a broker or database a test stops and starts). `freePort()` hands out the OS's ephemeral ports, which outgoing
 * connections take too: during the minute a stack needs to start, some client's connection can take the very port
 * the facade is to listen on (EADDRINUSE). Below Linux's ephemeral range (32768–60999) no outgoing connection lands.
 */
export async function portForLater(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port between 20000 and 32000');
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
