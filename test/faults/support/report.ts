import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './children';

const DIR = path.join(REPO, 'test-artifacts', 'faults');

/**
 * One line per scenario on stderr (Jest keeps it next to the file's result) and the same figures as JSON in
 * test-artifacts/faults/, where BENCHMARKS.md's fault table is taken from.
 */
export function report(scenario: string, figures: Record<string, unknown>): void {
  process.stderr.write(`[fault] ${scenario}: ${JSON.stringify(figures)}\n`);
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(path.join(DIR, `${scenario}.json`), `${JSON.stringify({ scenario, at: new Date().toISOString(), ...figures }, null, 2)}\n`);
}
