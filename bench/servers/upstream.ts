import http from 'node:http';
import { benchPort, exitWithBench } from './child';

/**
 * The tiny JSON upstream every row proxies to: one precomputed ~100-byte body, no routing, no parsing, so what
 * the rows measure is the proxy in front of it. Keep-alive outlives the pauses between rounds.
 */
const body = Buffer.from(JSON.stringify({ id: 42, name: 'Ada Lovelace', email: 'ada@example.com', createdAt: '2024-01-01T00:00:00.000Z' }));

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 120_000;
server.listen(benchPort(), '127.0.0.1');
exitWithBench();
