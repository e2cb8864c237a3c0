import http from 'node:http';

/** Where a request can go: the monolith or one context's service, with its own keep-alive pool. */
export interface Upstream {
  /** `monolith` or the context name: what `x-strangler-upstream` says. */
  name: string;
  url: URL;
  agent: http.Agent;
}

/**
 * How long an idle pooled connection is kept when the upstream does not say (`Keep-Alive: timeout=N`; a hint lowers
 * it to N − 1 s). Below Node's default server `keepAliveTimeout` of 5 s, so the facade closes an idle connection
 * before a Node upstream does, instead of writing a request onto one the upstream is closing.
 */
export const IDLE_CONNECTION_MS = 4000;

export function upstream(name: string, url: string, maxSockets = 512): Upstream {
  return {
    name,
    url: new URL(url),
    // `timeout` is the idle timeout of a pooled socket; Node's agent honours the upstream's Keep-Alive hint only
    // when it is shorter than this, and keeps idle sockets forever without it.
    agent: new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000, timeout: IDLE_CONNECTION_MS }),
  };
}
