import { parseCounters, delta } from '../facade/metrics';
import { summarizeProfile, type CpuProfile } from '../profile/summarize';
import { median, ratio, summariseRow } from '../report';
import { parseWrkOutput } from '../tools/wrk';

const round = (rps: number, p99: number) => ({ round: 1, loadavg1: 0, cpuUsPerRequest: 10, requests: rps, seconds: 1, rps, p50: 1, p90: 2, p99, max: p99, errors: 0 });

describe('bench summaries', () => {
  it('takes medians per metric and checks targets in both directions', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const rows = [summariseRow('a', '', [round(80, 3), round(90, 2), round(70, 9)]), summariseRow('b', '', [round(100, 2)])];
    expect(rows[0]).toMatchObject({ rps: 80, p99: 3, requests: 240 });
    expect(ratio(rows, { numerator: 'a', denominator: 'b', metric: 'rps', target: { op: '>=', value: 0.75 } })).toMatchObject({ value: 0.8, met: true });
    expect(ratio(rows, { numerator: 'a', denominator: 'b', metric: 'p99', target: { op: '<=', value: 1.4 } })).toMatchObject({ value: 1.5, met: false });
    expect(ratio(rows, { numerator: 'a', denominator: 'missing', metric: 'rps', target: { op: '>=', value: 1 } })).toMatchObject({ value: null, met: null });
  });

  it('reads the result line of the wrk script', () => {
    const out = 'Running 1s test\nBENCH_RESULT {"requests":1000,"durationUs":500000,"bytes":1,"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":0},"latencyUs":{"p50":1500,"p90":2000,"p99":4000,"max":9000,"mean":1600.5}}\n';
    expect(parseWrkOutput(out)).toMatchObject({ requests: 1000, rps: 2000, p50: 1.5, p99: 4, errors: 3 });
    expect(() => parseWrkOutput('no result')).toThrow(/no result line/);
  });

  it('reads the facade counters and the change between two scrapes', () => {
    const before = parseCounters('strangler_facade_requests_total{context="orders",upstream="orders",status="200"} 5\n');
    const after = parseCounters(
      [
        'strangler_facade_requests_total{context="orders",upstream="orders",status="200"} 15',
        'strangler_facade_requests_total{context="orders",upstream="monolith",status="200"} 9',
        'strangler_shadow_comparisons_total{context="users",outcome="matched"} 4',
      ].join('\n'),
    );
    expect(delta(before.requests, after.requests, 'orders/')).toEqual({ orders: 10, monolith: 9 });
    expect(delta(before.shadow, after.shadow, 'users/')).toEqual({ matched: 4 });
  });

  it('splits a CPU profile into self and inclusive time, leaving idle out', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('handle', 'file:///app/facade/src/routing/router.ts'), children: [3] },
        { id: 3, callFrame: frame('web', 'file:///app/node_modules/httpxy/dist/index.mjs') },
        { id: 4, callFrame: frame('(idle)') },
      ],
      startTime: 0,
      endTime: 400,
      samples: [2, 3, 3, 4],
      timeDeltas: [0, 100, 100, 100],
    };
    const s = summarizeProfile(profile);
    expect(s).toMatchObject({ totalMs: 0.4, idleMs: 0.1, busyMs: 0.3 });
    expect(s.topSelf.map((e) => [e.name, e.category, e.pct])).toEqual([
      ['web', 'httpxy', 66.7],
      ['handle', 'facade', 33.3],
    ]);
    expect(s.topInclusive.find((e) => e.name === 'handle')!.pct).toBe(100);
  });
});
