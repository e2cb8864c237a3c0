import type { BenchOptions } from './options';
import type { SuiteResult } from './report';
import type { LoadGenerator } from './tools/load';
import { facadeSuite } from './facade/suite';

export interface SuiteContext {
  options: BenchOptions;
  load: LoadGenerator;
  log: (line: string) => void;
  /** Call before each measured round: results.json keeps the highest 1-minute load average seen. */
  sampleLoad(): number;
}

export interface Suite {
  name: string;
  /** Shown above the suite's table. */
  title: string;
  /** The row every other row's req/s is compared with in the table's `×` column. */
  baseline?: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}

/**
 * Every suite `npm run bench` knows, in the order they run. The CDC table (raw decode, source, end-to-end, lag,
 * snapshot) plugs in here: add `cdcSuite` from `bench/cdc/suite.ts` returning a SuiteResult with its rows and
 * ratios, and it is run, printed and written to results.json under `suites.cdc` like the facade's.
 */
export const SUITES: Suite[] = [facadeSuite];
