import type { Counter, Histogram } from 'prom-client';

type Labels = Record<string, string>;

/**
 * Counts for a prom-client Counter kept in plain numbers and handed to it when it is read (its `collect`, at every
 * scrape and every read of the registry). A labelled child still validates and hashes its labels on each `inc`;
 * this is a Map lookup and an addition per request.
 */
export class CounterTally {
  private readonly series = new Map<string, { labels: Labels; n: number }>();

  add(key: string, labels: () => Labels): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels: labels(), n: 0 };
      this.series.set(key, s);
    }
    s.n += 1;
  }

  flushInto(counter: Counter): void {
    for (const s of this.series.values()) {
      if (s.n === 0) continue;
      counter.inc(s.labels, s.n);
      s.n = 0;
    }
  }
}

/** One histogram series as prom-client keeps it (15.x): counts per upper bound (not cumulative), sum, count. */
interface HistogramEntry {
  labels: Labels;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * Observations for a prom-client Histogram kept as bucket counts and a sum, added to the histogram's series when
 * it is read, exactly as `observe` would have (same bounds, same sum and count). prom-client has no public way to
 * add counts in bulk, so the series is reached through its `hashMap` (created with `zero()` when absent);
 * `tally.test.ts` checks the result against prom-client's own `observe`.
 */
export class HistogramTally {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(private readonly bounds: readonly number[]) {}

  add(key: string, labels: () => Labels, value: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels: labels(), counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    s.sum += value;
    s.count += 1;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        s.counts[i] += 1;
        break;
      }
    }
  }

  flushInto(histogram: Histogram): void {
    const internal = histogram as unknown as { hashMap: Record<string, HistogramEntry> };
    const find = (labels: Labels) => Object.values(internal.hashMap).find((e) => sameLabels(e.labels, labels));
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let entry = find(s.labels);
      if (!entry) {
        histogram.zero(s.labels);
        entry = find(s.labels)!;
      }
      for (let i = 0; i < this.bounds.length; i++) {
        if (s.counts[i] === 0) continue;
        entry.bucketValues[this.bounds[i]] += s.counts[i];
        s.counts[i] = 0;
      }
      entry.sum += s.sum;
      entry.count += s.count;
      s.sum = 0;
      s.count = 0;
    }
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => String(a[k]) === b[k]);
}
