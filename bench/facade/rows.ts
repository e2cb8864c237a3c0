import os from 'node:os';

/**
 * The facade table's rows. Every row is loaded with the same GET (the path only picks the plan context, and so the
 * stage) against the same tiny upstream; anchors get the monolith-stage path too.
 */
export interface RowSpec {
  name: string;
  what: string;
  /** Which server answers. */
  target: 'upstream' | 'node-forward' | 'naive' | 'httpxy' | 'facade' | 'facade-cores' | 'baseline' | 'nginx' | 'nginx-cores';
  path: string;
  /** The plan context whose counters describe this row (facade rows). */
  context?: string;
  /** A paced row: offered at this many req/s (see PACED_RATE) to read latency without queueing. */
  paced?: boolean;
}

/**
 * At a fixed connection count and full load, latency is mostly queueing (connections ÷ throughput), so a slower
 * row's p99 is higher whatever its own delay. Paced rows offer a rate every row sustains with room to spare, so
 * their p99 shows what a request itself costs: the fair reading of "does shadowing delay the primary answer".
 */
export const PACED_RATE = 1000;

export const ROWS: RowSpec[] = [
  { name: 'direct', what: 'load straight at the upstream', target: 'upstream', path: '/api/payments/42' },
  { name: 'node-forward', what: '15-line http.request forwarder, keep-alive agent', target: 'node-forward', path: '/api/payments/42' },
  { name: 'naive', what: 'Express 5 + http-proxy-middleware 4, keep-alive agent', target: 'naive', path: '/api/payments/42' },
  { name: 'httpxy', what: 'diagnostic: bare httpxy, the engine under http-proxy-middleware 4 and the facade, keep-alive agent', target: 'httpxy', path: '/api/payments/42' },
  { name: 'facade/monolith', what: 'our facade, context (payments) in monolith stage', target: 'facade', path: '/api/payments/42', context: 'payments' },
  { name: 'facade/canary50', what: 'our facade, context (orders) at a 50 % canary, sticky users', target: 'facade', path: '/api/orders/42', context: 'orders' },
  { name: 'facade/shadow100', what: 'our facade, context (users) 100 % shadowed, comparison on', target: 'facade', path: '/api/users/42', context: 'users' },
  { name: 'node-forward/paced', what: `node-forward at ${PACED_RATE} req/s offered`, target: 'node-forward', path: '/api/payments/42', paced: true },
  { name: 'facade/monolith/paced', what: `facade/monolith at ${PACED_RATE} req/s offered`, target: 'facade', path: '/api/payments/42', paced: true },
  { name: 'facade/shadow100/paced', what: `facade/shadow100 at ${PACED_RATE} req/s offered`, target: 'facade', path: '/api/users/42', context: 'users', paced: true },
  { name: 'nginx', what: 'Debian nginx reverse proxy, upstream keepalive, 1 worker', target: 'nginx', path: '/api/payments/42' },
  { name: 'facade/monolith/cores', what: 'the facade as one process per core (FACADE_PROCESSES = cores, SO_REUSEPORT), monolith stage', target: 'facade-cores', path: '/api/payments/42' },
  { name: 'nginx/cores', what: 'nginx with one worker per core (worker_processes = cores)', target: 'nginx-cores', path: '/api/payments/42' },
];

/** Processes per core-wide row: one per core the machine offers. */
export const CORES = os.availableParallelism();

export const ROW_NAMES = ROWS.map((r) => r.name);

/**
 * Rows of a second facade built from another checkout (`BENCH_BASELINE_FACADE=<its root>`, after `npm ci` there),
 * measured in the same rounds as this tree's: an A/B of two versions in one run. Not part of a default run.
 */
export const BASELINE_ROWS: RowSpec[] = [
  { name: 'baseline/monolith', what: 'the baseline checkout\'s facade, context (payments) in monolith stage', target: 'baseline', path: '/api/payments/42', context: 'payments' },
  { name: 'baseline/canary50', what: 'the baseline checkout\'s facade, context (orders) at a 50 % canary, sticky users', target: 'baseline', path: '/api/orders/42', context: 'orders' },
  { name: 'baseline/shadow100', what: 'the baseline checkout\'s facade, context (users) 100 % shadowed', target: 'baseline', path: '/api/users/42', context: 'users' },
  { name: 'baseline/monolith/paced', what: `baseline/monolith at ${PACED_RATE} req/s offered`, target: 'baseline', path: '/api/payments/42', paced: true },
  { name: 'baseline/shadow100/paced', what: `baseline/shadow100 at ${PACED_RATE} req/s offered`, target: 'baseline', path: '/api/users/42', context: 'users', paced: true },
];
