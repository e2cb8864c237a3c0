import type { Suite } from './suite';
import { cdcSuite } from './cdc/suite';
import { facadeSuite } from './facade/suite';

/**
 * Every suite `npm run bench` knows, in the order they run; each is printed and written to results.json under
 * `suites.<name>`. `--suite facade` or `--suite cdc` runs one.
 */
export const SUITES: Suite[] = [facadeSuite, cdcSuite];
