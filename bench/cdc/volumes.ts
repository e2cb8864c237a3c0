import type { Mode } from '../options';

export interface CdcVolumes {
  /** Rows of the one-transaction burst that raw decode, source and end-to-end each drain. */
  burstRows: number;
  /** The steady write load of the lag row: rows per second, in transactions of `lagRowsPerTx` rows. */
  lagRate: number;
  lagRowsPerTx: number;
  /** The second steady load (the `lag at 10k` row): rows per second, in transactions of `lagHighRowsPerTx`. */
  lagHighRate: number;
  lagHighRowsPerTx: number;
  /** Written at the same rate before the measured window, so the window starts in steady state. */
  lagWarmupSeconds: number;
  lagSeconds: number;
  /** Rows in the monolith table the snapshot (and the COPY pipe) copies. */
  snapshotRows: number;
  /** Drained before the profiled burst: the profiled process must be past its cold start when sampled. */
  profileWarmupRows: number;
  /** Rows of the bulk load at scale (the 10M in a full run), with the pipeline process's peak RSS. */
  scaleRows: number;
  /** Rows of the one monolith transaction the `big transaction` row streams through the running pipeline. */
  bigTxRows: number;
}

/**
 * The steady loads: 2k and 10k rows/s, as a monolith's many small transactions rather than one big one. At
 * 10k rows/s, 20 rows a transaction (500 a second): one writer connection (commit order = id order, which the lag
 * method needs) cannot keep a 1 ms schedule next to Postgres, the broker and the pipeline on 2 cores.
 */
const LAG = { lagRate: 2_000, lagRowsPerTx: 10, lagHighRate: 10_000, lagHighRowsPerTx: 20 };

/**
 * full is the volumes; quick keeps the whole suite near a minute; smoke only proves every row runs (the
 * shape test uses it, so it must stay well inside the jest budget).
 */
export const CDC_VOLUMES: Record<Mode, CdcVolumes> = {
  full: { ...LAG, burstRows: 200_000, lagWarmupSeconds: 5, lagSeconds: 60, snapshotRows: 1_000_000, profileWarmupRows: 20_000, scaleRows: 10_000_000, bigTxRows: 1_000_000 },
  quick: { ...LAG, burstRows: 50_000, lagWarmupSeconds: 2, lagSeconds: 15, snapshotRows: 200_000, profileWarmupRows: 5_000, scaleRows: 1_000_000, bigTxRows: 200_000 },
  smoke: { ...LAG, burstRows: 3_000, lagWarmupSeconds: 1, lagSeconds: 3, snapshotRows: 5_000, profileWarmupRows: 1_000, scaleRows: 10_000, bigTxRows: 5_000 },
};
