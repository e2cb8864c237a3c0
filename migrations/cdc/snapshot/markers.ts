import type { SnapshotMarker } from '../events/envelope';

/**
 * Debezium's `source.snapshot` values. Whether a row is the last of its table (or of the whole snapshot) is known
 * only when the next row arrives, so rows are emitted one behind: `push` returns the previous row with its marker.
 * Priority as in Debezium: last > first > last_in_data_collection > first_in_data_collection > true.
 */
export class SnapshotMarkers<T> {
  private pending: { table: string; item: T; firstInTable: boolean; firstOverall: boolean } | null = null;
  private seenAny = false;
  private currentTable: string | null = null;

  push(table: string, item: T): [T, SnapshotMarker] | null {
    const firstInTable = table !== this.currentTable;
    this.currentTable = table;
    const previous = this.pending ? this.release(this.pending.table !== table, false) : null;
    this.pending = { table, item, firstInTable, firstOverall: !this.seenAny };
    this.seenAny = true;
    return previous;
  }

  /** The held row, marked as the last of the snapshot. */
  finish(): [T, SnapshotMarker] | null {
    return this.pending ? this.release(true, true) : null;
  }

  private release(lastInTable: boolean, lastOverall: boolean): [T, SnapshotMarker] {
    const p = this.pending!;
    this.pending = null;
    const marker: SnapshotMarker = lastOverall
      ? 'last'
      : p.firstOverall
        ? 'first'
        : lastInTable
          ? 'last_in_data_collection'
          : p.firstInTable
            ? 'first_in_data_collection'
            : 'true';
    return [p.item, marker];
  }
}
