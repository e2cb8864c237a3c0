import http from 'node:http';
import { listen } from '../../../lib/http/server';

export type StubAnswer = { status: number; body?: unknown } | 'hang';

export interface StubOrders {
  url: string;
  /** Every request the stub saw, in order. */
  requests: { method: string; path: string; headers: http.IncomingHttpHeaders }[];
  /** What `GET /api/users/:id/orders` answers; by default nobody has orders. */
  answer: (userId: number) => StubAnswer;
  close(): Promise<void>;
}

/** A stand-in for the orders service's `GET /api/users/:id/orders`, the only route the users service calls. */
export async function startStubOrders(): Promise<StubOrders> {
  const hanging = new Set<http.ServerResponse>();
  const stub: StubOrders = {
    url: '',
    requests: [],
    answer: () => ({ status: 200, body: { items: [] } }),
    close: async () => undefined,
  };
  const server = await listen((req, res) => {
    stub.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const match = /^\/api\/users\/(\d+)\/orders$/.exec(req.url ?? '');
    const answer: StubAnswer = match && req.method === 'GET' ? stub.answer(Number(match[1])) : { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
    if (answer === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }, 0);
  stub.url = server.url;
  stub.close = async () => {
    for (const res of hanging) res.destroy();
    server.server.closeAllConnections();
    await server.close();
  };
  return stub;
}
