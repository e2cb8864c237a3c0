import net from 'node:net';

export interface TcpProxy {
  url: string;
  /** forward: a plain pipe. blackhole: takes requests and never answers (a hung service). */
  mode: 'forward' | 'blackhole';
  /** Chunks of requests that reached the proxy while forwarding (0 while nothing is sent). */
  requestChunks: number;
  /** The next response from upstream is dropped and its connection cut, after upstream has done the work. */
  dropNextResponse(): void;
  droppedResponses: number;
  close(): Promise<void>;
}

/**
 * A byte-level proxy in front of a service, to lose a response in flight or play dead without touching the service.
 * Works across keep-alive connections: a fault applies to whatever connection carries the next request or response.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let dropArmed = false;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  const proxy: TcpProxy = {
    url: '',
    mode: 'forward',
    requestChunks: 0,
    droppedResponses: 0,
    dropNextResponse: () => {
      dropArmed = true;
    },
    close: async () => undefined,
  };

  const server = net.createServer((client) => {
    track(client);
    const upstream = net.connect(Number(port), hostname);
    track(upstream);
    client.on('data', (chunk) => {
      if (proxy.mode === 'blackhole') return;
      proxy.requestChunks += 1;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (dropArmed) {
        dropArmed = false;
        proxy.droppedResponses += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
