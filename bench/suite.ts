import type { BenchOptions } from './options';
import type { RateUnit, SuiteResult } from './report';
import type { LoadGenerator } from './tools/load';

/** What a suite of `npm run bench` is, and what the runner hands it (the suites themselves are listed in ./suites.ts). */
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
  /** What the rate column counts; requests unless said otherwise. */
  unit?: RateUnit;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}
