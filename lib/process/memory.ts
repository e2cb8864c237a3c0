import { readFileSync, writeFileSync } from 'node:fs';

/** A `/proc/<pid>/status` field in MB (rounded); null where /proc does not tell (not Linux, process gone). */
function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** Resident set of a process now, in MB. */
export const rssMb = (pid: number): number | null => statusMb(pid, 'VmRSS');

/** Peak resident set of a process since it started or since `resetPeakRss` (VmHWM), in MB. */
export const peakRssMb = (pid: number): number | null => statusMb(pid, 'VmHWM');

/**
 * Starts the peak over at the current resident set (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0; the process must
 * be ours). False when that is not possible: the peak then is the one since the process started.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
