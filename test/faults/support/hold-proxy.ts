import net from 'node:net';

export interface HoldProxy {
  /** The same URL with the proxy's host and port. */
  url(target: string): string;
  /** From now on bytes from clients wait in the proxy (what the server sends still flows). */
  hold(): void;
  /** Sends what waited, and lets everything through again. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy that can hold one direction: what clients send. Between a CDC source and Postgres it delays the
 * source's acknowledgements while the WAL keeps streaming to it, so a kill in that window leaves changes that are in
 * Kafka but not confirmed on the slot — the changes a restarted source sends again. It widens a window every crash
 * can hit; it adds nothing the source would not meet on a slow network.
 */
export async function startHoldProxy(targetUrl: string): Promise<HoldProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const waiting = new Map<net.Socket, { upstream: net.Socket; chunks: Buffer[] }>();
  let held = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const entry = { upstream, chunks: [] as Buffer[] };
    waiting.set(client, entry);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        waiting.delete(client);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (held) entry.chunks.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url(t) {
      const u = new URL(t);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    hold() {
      held = true;
    },
    release() {
      held = false;
      for (const { upstream, chunks } of waiting.values()) {
        for (const c of chunks.splice(0)) upstream.write(c);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
