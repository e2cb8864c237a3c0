import { SnapshotMarkers } from '../markers';

function run(rows: [string, string][]): [string, string][] {
  const markers = new SnapshotMarkers<string>();
  const out: [string, string][] = [];
  for (const [table, row] of rows) {
    const released = markers.push(table, row);
    if (released) out.push(released);
  }
  const last = markers.finish();
  if (last) out.push(last);
  return out;
}

describe('snapshot markers', () => {
  it('marks first, per-table boundaries and last as Debezium does', () => {
    expect(
      run([
        ['a', 'a1'],
        ['a', 'a2'],
        ['a', 'a3'],
        ['b', 'b1'],
        ['b', 'b2'],
        ['c', 'c1'],
      ]),
    ).toEqual([
      ['a1', 'first'],
      ['a2', 'true'],
      ['a3', 'last_in_data_collection'],
      ['b1', 'first_in_data_collection'],
      ['b2', 'last_in_data_collection'],
      ['c1', 'last'],
    ]);
  });

  it('lets "last" win over "first" for a single row, and "first" over a table boundary', () => {
    expect(run([['a', 'a1']])).toEqual([['a1', 'last']]);
    expect(
      run([
        ['a', 'a1'],
        ['b', 'b1'],
      ]),
    ).toEqual([
      ['a1', 'first'],
      ['b1', 'last'],
    ]);
    expect(run([])).toEqual([]);
  });
});
