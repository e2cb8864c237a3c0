import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../../lib/http/metrics';
import { STAGES, type Stage } from '../../../control/plan';
import { CounterTally, HistogramTally } from './tally';

/**
 * The facade's Prometheus metrics, on the process registry (served at /_strangler/metrics). The two written on every
 * request are tallied in plain numbers and handed to prom-client when read (metrics/tally.ts): a labelled child
 * would validate and hash its labels on every call.
 */
const requestTally = new CounterTally();
new Counter({
  name: 'strangler_facade_requests_total',
  help: 'Requests answered by the facade, by context, upstream and status.',
  labelNames: ['context', 'upstream', 'status'],
  registers: [registry],
  collect() {
    requestTally.flushInto(this);
  },
});

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const latencyTally = new HistogramTally(LATENCY_BUCKETS);
new Histogram({
  name: 'strangler_facade_request_duration_seconds',
  help: 'Time from receiving a request to finishing its response, by context and upstream.',
  labelNames: ['context', 'upstream'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
  collect() {
    latencyTally.flushInto(this);
  },
});

const shadowOutcomes = new Counter({
  name: 'strangler_shadow_comparisons_total',
  help: 'Shadow comparisons by context and outcome (matched, diff, error, skipped).',
  labelNames: ['context', 'outcome'],
  registers: [registry],
});

const fallbacks = new Counter({
  name: 'strangler_facade_fallbacks_total',
  help: 'Reads the monolith served because the context\'s service could not (error, timeout, open breaker).',
  labelNames: ['context'],
  registers: [registry],
});

const breakerState = new Gauge({
  name: 'strangler_breaker_open',
  help: '1 when the circuit breaker of the context\'s service is open (0.5 half-open), else 0.',
  labelNames: ['context'],
  registers: [registry],
});

const stageGauge = new Gauge({
  name: 'strangler_context_stage',
  help: 'Current stage of each context: 1 for the active stage label, 0 for the others.',
  labelNames: ['context', 'stage'],
  registers: [registry],
});

const percentGauge = new Gauge({
  name: 'strangler_context_service_percent',
  help: 'Share of the context\'s traffic routed to its service (0–100).',
  labelNames: ['context'],
  registers: [registry],
});

/** Per request: two Map lookups and a few additions; prom-client's series get the counts when they are read. */
export function recordRequest(context: string, upstream: string, status: number, seconds: number): void {
  const series = `${context}\u0000${upstream}`;
  requestTally.add(`${series}\u0000${status}`, () => ({ context, upstream, status: String(status) }));
  latencyTally.add(series, () => ({ context, upstream }), seconds);
}

export function recordShadow(context: string, outcome: 'matched' | 'diff' | 'error' | 'skipped'): void {
  shadowOutcomes.labels(context, outcome).inc();
}

export function recordFallback(context: string): void {
  fallbacks.labels(context).inc();
}

export function recordBreaker(context: string, state: 'closed' | 'open' | 'half_open'): void {
  breakerState.labels(context).set(state === 'open' ? 1 : state === 'half_open' ? 0.5 : 0);
}

export function recordStage(context: string, stage: Stage, percent: number): void {
  for (const s of STAGES) stageGauge.labels(context, s).set(s === stage ? 1 : 0);
  percentGauge.labels(context).set(percent);
}
