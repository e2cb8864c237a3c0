import http from 'node:http';
import { listen } from '../../../lib/http/server';

export interface StubRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** What the stub answers: a status and JSON body, nothing ever ('hang'), or a dropped connection ('reset'). */
export type StubAnswer = { status: number; body?: unknown } | 'hang' | 'reset';

export interface Stub {
  url: string;
  /** Every request the stub saw, in order. */
  requests: StubRequest[];
  answer: (req: StubRequest) => StubAnswer;
  close(): Promise<void>;
}

/** A stand-in for another service: answers with whatever `answer` says and records what it was asked. */
export async function startStub(answer: (req: StubRequest) => StubAnswer): Promise<Stub> {
  const hanging = new Set<http.ServerResponse>();
  const stub: Stub = { url: '', requests: [], answer, close: async () => undefined };
  const server = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: StubRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      stub.requests.push(seen);
      const a = stub.answer(seen);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      if (a === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  }, 0);
  stub.url = server.url;
  stub.close = async () => {
    for (const res of hanging) res.destroy();
    server.server.closeAllConnections();
    await server.close();
  };
  return stub;
}

/** Answers like the users service: every user in `known` exists. */
export function usersAnswer(known: Set<number>) {
  return (req: StubRequest): StubAnswer => {
    const match = /^\/api\/users\/(\d+)$/.exec(req.path);
    if (!match || req.method !== 'GET') return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
    const id = Number(match[1]);
    return known.has(id)
      ? { status: 200, body: { id, email: `u${id}@example.com`, name: 'U', createdAt: new Date(), updatedAt: new Date() } }
      : { status: 404, body: { error: { code: 'not_found', message: 'user not found' } } };
  };
}

/** Answers like the payments service's internal routes: captures up to 100000 cents, refunds what it captured. */
export function paymentsAnswer() {
  const payments = new Map<number, { id: number; orderId: number; amountCents: number; status: string }>();
  return (req: StubRequest): StubAnswer => {
    if (req.method === 'POST' && req.path === '/internal/payments') {
      const { orderId, amountCents } = req.body as { orderId: number; amountCents: number };
      const seen = payments.get(orderId);
      if (seen) return { status: 200, body: seen };
      const payment = { id: payments.size + 1, orderId, amountCents, status: amountCents > 100_000 ? 'declined' : 'captured' };
      payments.set(orderId, payment);
      return { status: 201, body: payment };
    }
    const refund = /^\/internal\/payments\/(\d+)\/refund$/.exec(req.path);
    if (req.method === 'POST' && refund) {
      const payment = payments.get(Number(refund[1]));
      if (!payment) return { status: 404, body: { error: { code: 'not_found', message: 'payment not found' } } };
      if (payment.status === 'declined') return { status: 409, body: { error: { code: 'not_refundable', message: 'declined' } } };
      payment.status = 'refunded';
      return { status: 200, body: payment };
    }
    return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
  };
}
