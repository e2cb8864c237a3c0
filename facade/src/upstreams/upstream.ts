import http from 'node:http';

/** Where a request can go: the monolith or one context's service, with its own keep-alive pool. */
export interface Upstream {
  /** `monolith` or the context name: what `x-strangler-upstream` says. */
  name: string;
  url: URL;
  agent: http.Agent;
  /** http-proxy's target, prepared once: a plain object is cheaper per request than a URL. */
  target: { protocol: string; host: string; hostname: string; port: string; path: string };
}

export function upstream(name: string, url: string, maxSockets = 512): Upstream {
  const u = new URL(url);
  return {
    name,
    url: u,
    agent: new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 }),
    target: { protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port || (u.protocol === 'https:' ? '443' : '80'), path: u.pathname === '/' ? '' : u.pathname },
  };
}

