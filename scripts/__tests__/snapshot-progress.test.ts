import { formatSnapshotProgress } from '../cli/output';

describe('strangler status: the initial load as a progress bar', () => {
  it('shows the share, the counts, the rate and the time left', () => {
    expect(formatSnapshotProgress({ mode: 'bulk', rows: 450_000, totalRows: 1_000_000, rowsPerSecond: 95_000, etaSeconds: 6 })).toBe(
      'bulk load: [#########-----------]  45%  450,000 / 1,000,000 rows  95,000 rows/s  ETA 6 s',
    );
  });

  it('never shows 100 % from the estimate alone: the planner may count fewer rows than there are', () => {
    expect(formatSnapshotProgress({ mode: 'bulk', rows: 1_200, totalRows: 1_000, rowsPerSecond: 600, etaSeconds: 0 }, 10)).toBe(
      'bulk load: [##########]  99%  1,200 / 1,000 rows  600 rows/s  ETA 0 s',
    );
  });

  it('without an estimate (table never analysed, or the events path), only the counts', () => {
    expect(formatSnapshotProgress({ mode: 'events', rows: 5_000, totalRows: null, rowsPerSecond: 2_500, etaSeconds: null })).toBe(
      'snapshot events: 5,000 rows  2,500 rows/s',
    );
  });
});
