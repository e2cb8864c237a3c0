import request from 'supertest';

export type ContextName = 'users' | 'orders' | 'payments' | 'notifications';

/**
 * Where the contract suite sends each context's routes. For the monolith all four are the same base URL; for the
 * extracted services each is its own process. Tests only use HTTP, so any implementation of the contract fits.
 */
export interface ShopTarget {
  name: string;
  baseUrls: Record<ContextName, string>;
}

export function client(target: ShopTarget, context: ContextName) {
  return request(target.baseUrls[context]);
}

let counter = 0;
/** Emails unique across test runs against the same database (an external target may be reused). */
export function uniqueEmail(tag = 'user'): string {
  counter += 1;
  return `${tag}.${Date.now().toString(36)}.${process.pid}.${counter}@example.com`;
}
