import http from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { benchPort, exitWithBench, upstreamTarget } from './child';

// What most people would write: Express 5 with http-proxy-middleware 4 mounted at the root, done right (one
// middleware instance, a keep-alive agent, a timeout and an error handler).
const app = express();
app.disable('x-powered-by');
app.use(
  createProxyMiddleware({
    target: upstreamTarget().origin,
    changeOrigin: true,
    agent: new http.Agent({ keepAlive: true, maxSockets: 512 }),
    proxyTimeout: 10_000,
    on: {
      error: (_err, _req, res) => {
        if ('writeHead' in res && !res.headersSent) res.writeHead(502);
        res.end();
      },
    },
  }),
);
const server = app.listen(benchPort(), '127.0.0.1');
server.keepAliveTimeout = 120_000;
exitWithBench();
