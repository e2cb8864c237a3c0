import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { signedCall } from '../../../test/harness/internal';
import type { TestPaymentsService } from '../testing';

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({ status, code });
  expect(typeof (res.body as { error: { message: unknown } }).error.message).toBe('string');
}

let nextOrderId = 1000;
/** Order ids are the orders service's; here any unused positive integer will do. */
export const newOrderId = () => (nextOrderId += 1);

export function capture(
  s: TestPaymentsService,
  body: object,
  options: { key?: string | null; headers?: Record<string, string>; unsigned?: boolean } = {},
) {
  // Signed as the orders service signs its calls, unless the test is about an unsigned one.
  const req = request(s.server.url)
    .post('/internal/payments')
    .set(options.unsigned ? {} : signedCall())
    .set(options.headers ?? {});
  const key = options.key === undefined ? randomUUID() : options.key;
  return (key === null ? req : req.set('Idempotency-Key', key)).send(body);
}

export async function countRows(s: TestPaymentsService): Promise<{ payments: number; keys: number }> {
  const [rows] = await s.sequelize.query(
    'SELECT (SELECT count(*) FROM payments)::int AS payments, (SELECT count(*) FROM idempotency_keys)::int AS keys',
  );
  return rows[0] as { payments: number; keys: number };
}
