import { SinkStats } from '../stats';

describe('sink lag', () => {
  it('is unknown before anything was applied, and 0 once everything fetched is applied, however long ago that was', () => {
    const stats = new SinkStats();
    expect(stats.lagMs(1_000_000)).toBeNull();
    stats.pending('users/0', 1_000);
    stats.lastSourceTs = 990;
    stats.batchDone('users/0', true);
    expect(stats.lagMs(5_000_000)).toBe(0);
  });

  it('is the age of the oldest change not applied yet, across partitions, growing while it waits', () => {
    const stats = new SinkStats();
    stats.pending('users/0', 10_000);
    stats.pending('orders/0', 12_000);
    expect(stats.lagMs(15_000)).toBe(5_000);
    expect(stats.lagMs(20_000)).toBe(10_000);
    stats.lastSourceTs = 10_000;
    stats.batchDone('users/0', true);
    expect(stats.lagMs(20_000)).toBe(8_000);
  });

  it('after a batch that did not reach the end of its partition, counts from the last applied change until more arrives', () => {
    const stats = new SinkStats();
    stats.pending('users/0', 1_000);
    stats.lastSourceTs = 1_500;
    stats.batchDone('users/0', false);
    expect(stats.lagMs(4_000)).toBe(2_500);
    stats.pending('users/0', 1_800);
    expect(stats.lagMs(4_000)).toBe(2_200);
    stats.lastSourceTs = 1_900;
    stats.batchDone('users/0', true);
    expect(stats.lagMs(4_000)).toBe(0);
  });
});
