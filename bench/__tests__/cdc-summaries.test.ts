import { percentile } from '../cdc/lag';
import { splitLag } from '../cdc/lag-split';
import { cdcRatios, measuredRow } from '../cdc/rows';
import { categoryOf } from '../profile/summarize';
import { renderSuite, unmeasuredRow } from '../report';

const row = (name: Parameters<typeof measuredRow>[0], rows: number, seconds: number, p99?: number) =>
  measuredRow(name, '', { rows, seconds, cpu: { pipeline: rows / 100 }, loadavg1: 1, latency: p99 === undefined ? undefined : { p50: p99 / 2, p90: p99, p99, max: p99 } });

describe('CDC bench summaries', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 99, 100]);
    expect(percentile([], 50)).toBeNull();
  });

  it("splits commit → applied at Kafka's record timestamp", () => {
    const split = splitLag(
      [
        { maxId: 10, committedMs: 1_000, appliedMs: 1_050 },
        { maxId: 20, committedMs: 2_000, appliedMs: null },
      ],
      new Map([[10, 1_010]]),
    );
    expect(split).toEqual({ toKafka: { p50: 10, p99: 10 }, toApplied: { p50: 40, p99: 40 }, matched: 1 });
  });

  it('puts the CDC code in categories by part', () => {
    expect(categoryOf('file:///app/migrations/cdc/sink/bulk-forward.ts', 'bulkRows')).toBe('cdc/sink');
    expect(categoryOf('file:///app/facade/src/routing/router.ts', 'handle')).toBe('facade');
  });

  it('checks the four targets, the lag ones as an absolute p99, and renders a miss as NO', () => {
    const rows = [
      row('raw decode', 100_000, 1),
      row('end-to-end', 100_000, 5),
      row('lag', 20_000, 10, 120),
      row('lag at 10k', 100_000, 10, 250),
      row('snapshot', 10_000, 1),
      row('COPY pipe', 10_000, 0.5),
    ];
    const ratios = cdcRatios(rows);
    const byName = new Map(ratios.map((r) => [r.name, r]));
    expect(byName.get('end-to-end ÷ raw decode (rows/s)')).toMatchObject({ value: 0.2, met: false });
    expect(byName.get('lag p99, commit → applied (ms, absolute)')).toMatchObject({ value: 120, target: { op: '<=', value: 100 }, met: false });
    expect(byName.get('lag at 10k p99, commit → applied (ms, absolute)')).toMatchObject({ value: 250, target: { op: '<=', value: 250 }, met: true });
    expect(cdcRatios([row('lag', 20_000, 10, 99)]).find((r) => r.name.startsWith('lag at 10k'))).toMatchObject({ value: null, met: null });
    expect(byName.get('snapshot ÷ COPY pipe (rows/s)')).toMatchObject({ value: 0.5, met: true });
    expect(rows[0]).toMatchObject({ rps: 100_000, cpuUsPerRequest: 10, requests: 100_000 });
    const text = renderSuite({ suite: 'cdc', rows: [...rows, unmeasuredRow('source', '', 'failed', 'why')], ratios, notes: [] }, 'raw decode', { rate: 'rows/s', item: 'row' });
    expect(text).toContain('| row | rows/s | p50 ms | p99 ms | errors | CPU µs/row | × raw decode rows/s | note |');
    expect(text).toContain('| lag p99, commit → applied (ms, absolute) | 120.00 | <= 100 | **NO** |');
    expect(text).toContain('| lag at 10k p99, commit → applied (ms, absolute) | 250.00 | <= 250 | **yes** |');
    expect(text).toContain('| source | – | – | – | – | – | – | failed: why |');
  });

  it("checks issue 12's target, our source at least as fast as Debezium, and renders a miss as NO", () => {
    const render = (source: number, debezium: number) => {
      const rows = [row('raw decode', 100_000, 1), row('source', source, 1), row('debezium', debezium, 1)];
      const ratios = cdcRatios(rows);
      return { ratio: ratios.find((r) => r.name === 'source ÷ debezium (rows/s)'), text: renderSuite({ suite: 'cdc', rows, ratios, notes: [] }, 'raw decode', { rate: 'rows/s', item: 'row' }) };
    };
    const slower = render(20_000, 25_000);
    expect(slower.ratio).toMatchObject({ value: 0.8, met: false, target: { op: '>=', value: 1 } });
    expect(slower.text).toContain('| source ÷ debezium (rows/s) | 0.80 | >= 1 | **NO** |');
    expect(render(25_000, 25_000).text).toContain('| source ÷ debezium (rows/s) | 1.00 | >= 1 | **yes** |');
    // Debezium not measured (--smoke, no Java): the target says so instead of passing.
    const rows = [row('source', 20_000, 1), unmeasuredRow('debezium', '', 'skipped', 'java is not installed')];
    const text = renderSuite({ suite: 'cdc', rows, ratios: cdcRatios(rows), notes: [] }, 'raw decode', { rate: 'rows/s', item: 'row' });
    expect(text).toContain('| source ÷ debezium (rows/s) | – | >= 1 | not measured |');
    expect(text).toContain('| debezium | – | – | – | – | – | – | skipped: java is not installed |');
  });
});
