import { TrafficWindow, type TrafficTotals } from '../traffic';

describe('TrafficWindow', () => {
  let now = 0;
  let totals: TrafficTotals = new Map();
  const set = (users: [number, number]) => {
    totals = new Map([['users', { monolith: users[0], service: users[1] }]]);
  };
  const window = () => new TrafficWindow(async () => totals, 30, () => now);

  beforeEach(() => {
    now = 1_000_000;
    set([0, 0]);
  });

  it('counts the requests answered by each side since the first sample, up to the window', async () => {
    const w = window();
    await w.report();
    set([8, 2]);
    now += 5_000;
    expect(await w.report()).toEqual({ seconds: 5, windowSeconds: 30, contexts: { users: { monolith: 8, service: 2, serviceShare: 0.2, seconds: 5, sinceStageChange: false } } });
  });

  it('forgets what happened before the window', async () => {
    const w = window();
    await w.report();
    set([100, 0]);
    now += 10_000;
    await w.report();
    now += 25_000;
    set([100, 30]);
    // The baseline is the newest sample at least a window old: here still the first one.
    expect(await w.report()).toMatchObject({ seconds: 35, contexts: { users: { monolith: 100, service: 30 } } });
    now += 6_000;
    // Now the sample taken after the 100 monolith requests is: they are out of the window.
    expect(await w.report()).toEqual({ seconds: 31, windowSeconds: 30, contexts: { users: { monolith: 0, service: 30, serviceShare: 1, seconds: 31, sinceStageChange: false } } });
    now += 40_000;
    expect(await w.report()).toMatchObject({ contexts: { users: { monolith: 0, service: 0, serviceShare: null } } });
  });

  it('keeps few samples however often it is polled', async () => {
    const w = window();
    for (let i = 0; i < 1000; i++) {
      now += 10;
      set([i, 0]);
      await w.report();
    }
    expect((w as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(41);
  });

  it('starts a context\'s counts at its last stage change, so right after cutover the split is all service', async () => {
    let stage = 'canary:50';
    const w = new TrafficWindow(async () => totals, 30, () => now, () => stage);
    await w.report();
    set([50, 50]);
    now += 10_000;
    await w.report();
    stage = 'cutover:100';
    set([50, 60]);
    now += 1_000;
    await w.report();
    set([50, 90]);
    now += 4_000;
    // The sample taken at the first second of cutover is the base: the 10 requests of that second are not counted.
    expect(await w.report()).toEqual({ seconds: 15, windowSeconds: 30, contexts: { users: { monolith: 0, service: 30, serviceShare: 1, seconds: 4, sinceStageChange: true } } });
  });

  it('moves on its own timer: after a quiet spell with no page open, a report covers only the last window', async () => {
    jest.useFakeTimers();
    try {
      const w = window();
      await w.report(); // a page looked once, then was closed
      w.start(1000);
      const tick = async (seconds: number) => {
        for (let i = 0; i < seconds; i++) {
          now += 1000;
          await jest.advanceTimersByTimeAsync(1000);
        }
      };
      set([100, 0]); // before the canary: all on the monolith
      await tick(10);
      set([100, 50]); // then the service takes over; nobody looks for a while
      await tick(40);
      expect(await w.report()).toMatchObject({ contexts: { users: { monolith: 0, service: 0, serviceShare: null } } });
      set([100, 80]);
      await tick(5);
      expect(await w.report()).toMatchObject({ seconds: 30, contexts: { users: { monolith: 0, service: 30, serviceShare: 1 } } });
      w.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
