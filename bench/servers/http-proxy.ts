import http from 'node:http';
import httpProxy from 'http-proxy';
import { benchPort, exitWithBench, upstreamTarget } from './child';

// Diagnostic anchor: the engine the facade proxies with (http-proxy, under http-proxy-middleware), bare: one
// instance, a keep-alive agent, nothing else. The gap between this row and node-forward is the engine's own cost.
const proxy = httpProxy.createProxyServer({ target: upstreamTarget().origin, agent: new http.Agent({ keepAlive: true, maxSockets: 512 }) });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.listen(benchPort(), '127.0.0.1');
exitWithBench();
