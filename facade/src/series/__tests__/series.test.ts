import { histogramDelta, histogramQuantile } from '../quantile';
import { SeriesRecorder, type SeriesSources } from '../series';
import type { PipelineStatus } from '../../../../control/stages/cdc-client';

const INF = Number.POSITIVE_INFINITY;

describe('histogramQuantile (as Prometheus estimates it)', () => {
  it('interpolates inside the bucket the rank falls in', () => {
    // 100 observations: 50 ≤ 10 ms, 40 in (10, 50], 10 in (50, 100].
    const h = { bounds: [0.01, 0.05, 0.1, INF], counts: [50, 90, 100, 100] };
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.01);
    expect(histogramQuantile(0.7, h)).toBeCloseTo(0.03);
    expect(histogramQuantile(0.99, h)).toBeCloseTo(0.095);
  });

  it('is null without observations and the highest finite bound in the +Inf bucket', () => {
    expect(histogramQuantile(0.5, { bounds: [0.1, INF], counts: [0, 0] })).toBeNull();
    expect(histogramQuantile(0.99, { bounds: [0.1, INF], counts: [1, 10] })).toBe(0.1);
  });

  it('takes the observations between two readings, from zero after a reset', () => {
    const before = { bounds: [0.1, INF], counts: [5, 6] };
    expect(histogramDelta({ bounds: [0.1, INF], counts: [8, 10] }, before).counts).toEqual([3, 4]);
    expect(histogramDelta({ bounds: [0.1, INF], counts: [1, 1] }, before).counts).toEqual([1, 1]);
  });
});

describe('SeriesRecorder', () => {
  let now: number;
  let requests: { monolith: number; service: number; facade: number };
  let shadow: { compared: number; diffs: number; errors: number };
  let service: { requests: number; failed: number };
  let stage: { stage: 'canary'; percent: number };
  let pipelines: PipelineStatus[];

  const sources = (): SeriesSources => ({
    contexts: ['users'],
    stage: () => stage,
    requests: async () => new Map([['users', { ...requests }]]),
    latency: async () => new Map([['users', { bounds: [0.01, 0.1, INF], counts: [service.requests, service.requests, service.requests] }]]),
    shadow: async () => ({ users: { ...shadow } }),
    service: () => ({ ...service }),
    fallbacks: () => 2,
    pipelines: async () => pipelines,
  });

  beforeEach(() => {
    now = Date.parse('2026-01-01T00:00:00Z');
    requests = { monolith: 100, service: 0, facade: 0 };
    shadow = { compared: 10, diffs: 1, errors: 0 };
    service = { requests: 0, failed: 0 };
    stage = { stage: 'canary', percent: 50 };
    pipelines = [{ name: 'users-forward', context: 'users', direction: 'forward', state: 'streaming', lagMs: 40, lagBytes: 0 }];
  });

  it('stores what happened in each bucket, not the running totals, stamped on the clock grid', async () => {
    const r = new SeriesRecorder(sources(), 10, 3600, () => now);
    await r.sample();
    expect(r.series('users')).toEqual([]);

    now += 10_003;
    requests = { monolith: 150, service: 50, facade: 1 };
    shadow = { compared: 30, diffs: 3, errors: 1 };
    service = { requests: 50, failed: 5 };
    await r.sample();
    expect(r.series('users')).toEqual([
      {
        at: '2026-01-01T00:00:10.000Z',
        stage: 'canary',
        percent: 50,
        requests: { monolith: 50, service: 50, facade: 1 },
        serviceShare: 0.5,
        shadow: { compared: 20, diffs: 2, errors: 1, diffRate: 0.15 },
        service: { requests: 50, failed: 5, errorRate: 0.1, p50Ms: 5, p99Ms: 9.9 },
        fallbacks: 0,
        pipelines: { forward: { state: 'streaming', lagMs: 40 }, reverse: null },
      },
    ]);
  });

  it('counts from zero when a total went down (diffs reset) and has nulls where nothing happened', async () => {
    const r = new SeriesRecorder(sources(), 10, 3600, () => now);
    await r.sample();
    now += 10_000;
    shadow = { compared: 4, diffs: 0, errors: 0 };
    await r.sample();
    const [p] = r.series('users');
    expect(p.shadow).toEqual({ compared: 4, diffs: 0, errors: 0, diffRate: 0 });
    expect(p.serviceShare).toBeNull();
    expect(p.service).toEqual({ requests: 0, failed: 0, errorRate: null, p50Ms: null, p99Ms: null });
  });

  it('keeps at most retention / resolution points and answers `since` with the newer ones', async () => {
    const r = new SeriesRecorder(sources(), 10, 60, () => now);
    await r.sample();
    for (let i = 0; i < 10; i++) {
      now += 10_000;
      await r.sample();
    }
    const all = r.series('users');
    expect(all).toHaveLength(6);
    expect(all[0].at).toBe('2026-01-01T00:00:50.000Z');
    expect(r.series('users', Date.parse('2026-01-01T00:01:20Z')).map((p) => p.at)).toEqual(['2026-01-01T00:01:30.000Z', '2026-01-01T00:01:40.000Z']);
    expect(r.series('users', now)).toEqual([]);
  });

  it('still records when the CDC worker does not answer', async () => {
    const s = sources();
    s.pipelines = () => Promise.reject(new Error('down'));
    const r = new SeriesRecorder(s, 10, 3600, () => now);
    await r.sample();
    now += 10_000;
    await r.sample();
    expect(r.series('users')[0].pipelines).toEqual({ forward: null, reverse: null });
  });
});
