import { Counter, Histogram, Registry } from 'prom-client';
import { CounterTally, HistogramTally } from '../tally';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same metric twice: one fed by prom-client's own calls, one by a tally; their exposition must be identical. */
function pair() {
  const direct = new Registry();
  const tallied = new Registry();
  const counterTally = new CounterTally();
  const histogramTally = new HistogramTally(BUCKETS);
  const spec = { name: 'x_requests_total', help: 'h', labelNames: ['context', 'status'] as const };
  const hspec = { name: 'x_duration_seconds', help: 'h', labelNames: ['context'] as const, buckets: BUCKETS };
  const counter = new Counter({ ...spec, registers: [direct] });
  const histogram = new Histogram({ ...hspec, registers: [direct] });
  new Counter({ ...spec, registers: [tallied], collect() { counterTally.flushInto(this); } });
  new Histogram({ ...hspec, registers: [tallied], collect() { histogramTally.flushInto(this); } });
  return {
    record(context: string, status: number, seconds: number) {
      counter.inc({ context, status: String(status) });
      histogram.observe({ context }, seconds);
      counterTally.add(`${context}/${status}`, () => ({ context, status: String(status) }));
      histogramTally.add(context, () => ({ context }), seconds);
    },
    texts: async () => [await direct.metrics(), await tallied.metrics()],
  };
}

describe('metric tallies', () => {
  it('expose exactly what prom-client would have for the same observations, read after read', async () => {
    const m = pair();
    const values = [0.0005, 0.001, 0.004, 0.05, 0.5, 2, 30, 0.0101];
    values.forEach((v, i) => m.record(i % 2 ? 'users' : 'orders', i % 3 ? 200 : 503, v));
    const [direct, tallied] = await m.texts();
    expect(tallied).toBe(direct);
    expect(tallied).toContain('x_duration_seconds_bucket{le="+Inf",context="orders"} 4');

    // A second read adds only what came since: nothing counted twice (one value per series, so the float sums
    // are added in the same order on both sides).
    expect((await m.texts())[1]).toBe(direct);
    m.record('users', 200, 0.02);
    m.record('payments', 200, 0.002);
    const [direct2, tallied2] = await m.texts();
    expect(tallied2).toBe(direct2);
    expect(tallied2).toContain('x_requests_total{context="users",status="200"} 4');
  });
});
