import http from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { benchPort, exitWithBench, upstreamTarget } from './child';

// Diagnostic anchor: the engine under http-proxy-middleware 4 (httpxy), bare. The middleware is created only to hand
// over its httpxy server (a plugin receives it); requests go straight to that server's `web`, with a keep-alive agent
// and nothing else. The gap between this row and node-forward is the engine's own cost, the gap between this row
// and facade/monolith the middleware's and the facade's.
type Engine = { web(req: http.IncomingMessage, res: http.ServerResponse, options: object): Promise<void> };
let engine: Engine | undefined;
createProxyMiddleware({
  target: upstreamTarget().origin,
  ejectPlugins: true,
  plugins: [
    (proxy) => {
      engine = proxy as unknown as Engine;
      proxy.on('error', (_err: Error, _req?: http.IncomingMessage, res?: unknown) => {
        if (res instanceof http.ServerResponse) {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        }
      });
    },
  ],
});
const options = { target: new URL(upstreamTarget().origin), agent: new http.Agent({ keepAlive: true, maxSockets: 512 }) };
const server = http.createServer((req, res) => void engine!.web(req, res, options));
server.keepAliveTimeout = 120_000;
server.listen(benchPort(), '127.0.0.1');
exitWithBench();
