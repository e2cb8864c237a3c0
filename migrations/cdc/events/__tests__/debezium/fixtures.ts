import fs from 'node:fs';
import path from 'node:path';

/** One record as Debezium 3.6.1 wrote it: key and value are its exact JSON text (value null: a tombstone). */
export interface CapturedRecord {
  topic: string;
  key: string | null;
  value: string | null;
}

/** The configurations in ./capture/configs, one fixture file each. */
export const DEBEZIUM_CONFIGS = [
  '1-default',
  '2-string-txmeta-truncate',
  '3-double-connect-notombstones',
  '4-precise-schemas',
  '5-string-connect-schemas',
  '6-hex-microtime-txmeta-schemas',
  '7-base64urlsafe-schemas',
  '8-base64',
];

export function readFixture(config: string): CapturedRecord[] {
  return fs
    .readFileSync(path.join(__dirname, `${config}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CapturedRecord);
}

/** schema.sql, rows.sql (read by the snapshot) or changes.sql (streamed). */
export function fixtureSql(file: 'schema.sql' | 'rows.sql' | 'changes.sql'): string {
  return fs.readFileSync(path.join(__dirname, file), 'utf8');
}

/** The statements of a fixture file, to run one by one: as psql ran them, each its own transaction unless in BEGIN … COMMIT. */
export function fixtureStatements(file: 'schema.sql' | 'rows.sql' | 'changes.sql'): string[] {
  return fixtureSql(file)
    .split(/;\s*\n/)
    .map((statement) => statement.replace(/^(\s*--[^\n]*\n)+/, '').trim())
    .filter(Boolean);
}
