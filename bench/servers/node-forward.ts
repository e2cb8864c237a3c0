import http from 'node:http';
import { benchPort, exitWithBench, upstreamTarget } from './child';

// The single-process Node limit: a bare http.request forwarder with a keep-alive agent, nothing else.
const target = upstreamTarget();
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: target.host };
  const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});
server.keepAliveTimeout = 120_000;
server.listen(benchPort(), '127.0.0.1');
exitWithBench();
