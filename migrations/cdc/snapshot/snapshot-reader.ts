import { Client, type CustomTypesConfig } from 'pg';
import {
  changeRecord,
  decodeRowValues,
  describeTable,
  keyOf,
  sequenceOf,
  sourceJson,
  type CapturedTable,
  type ChangeRecord,
  type SourceContext,
} from '../events/change-events';
import type { Row, SnapshotMarker } from '../events/envelope';
import type { EventOptions } from '../events/options';
import { now } from '../events/clock';
import { tableShapeByName } from '../pg/catalog';
import { qualifiedName, quoteIdent, readerConfig, splitTableName } from '../pg/connection';
import { SnapshotError, errorText } from '../pg/errors';
import { lsnToNumber, type Lsn } from '../pg/lsn';
import { SnapshotMarkers } from './markers';

export interface SnapshotProgress {
  /** `schema.table` being read, null before the first and after the last. */
  table: string | null;
  /** Rows read from that table so far. */
  rows: number;
  totalTables: number;
  doneTables: number;
}

export interface SnapshotOutput {
  write(records: ChangeRecord[]): void;
  whenWritable(): Promise<void>;
}

export interface SnapshotReadOptions {
  databaseUrl: string;
  applicationName: string;
  snapshotName: string;
  consistentPoint: Lsn;
  /** In the order they are read (the pipeline's table order). */
  tables: string[];
  ctx: SourceContext;
  options?: EventOptions;
  output: SnapshotOutput;
  chunkRows?: number;
  onProgress?: (progress: SnapshotProgress) => void;
  /** Checked between chunks; a stop during a long snapshot must not wait for its end. */
  isAborted?: () => boolean;
}

interface SnapshotRow {
  table: CapturedTable;
  row: Row;
  /** When its table's read began, µs: Debezium stamps a snapshot's events with that (source.ts_*). */
  tableStartUs: number;
}

/** Every value as Postgres's text, exactly what pgoutput sends while streaming. */
const TEXT_TYPES: CustomTypesConfig = { getTypeParser: () => (value: string) => value } as unknown as CustomTypesConfig;

export class SnapshotAbortedError extends SnapshotError {
  constructor() {
    super('snapshot aborted by stop()', { retriable: true });
    this.name = 'SnapshotAbortedError';
  }
}

/**
 * Reads every table inside the exported snapshot, in primary-key order through a cursor, and writes `op: "r"`
 * records with Debezium's snapshot markers. Returns the number of rows read.
 */
export async function readSnapshot(options: SnapshotReadOptions): Promise<number> {
  const client = new Client(readerConfig(options.databaseUrl, options.applicationName));
  client.on('error', () => undefined);
  const chunkRows = options.chunkRows ?? 5_000;
  const progress: SnapshotProgress = { table: null, rows: 0, totalTables: options.tables.length, doneTables: 0 };
  const markers = new SnapshotMarkers<SnapshotRow>();
  let txId: number | null = null;
  let total = 0;

  const toRecord = ([item, marker]: [SnapshotRow, SnapshotMarker]) =>
    changeRecord(
      item.table,
      keyOf(item.table, item.row),
      'r',
      null,
      item.row,
      sourceJson(options.ctx, item.table, {
        tsUs: item.tableStartUs,
        snapshot: marker,
        sequence: sequenceOf(null, options.consistentPoint),
        txId,
        lsn: lsnToNumber(options.consistentPoint),
      }),
    );

  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT '${options.snapshotName.replace(/'/g, "''")}'`);
    txId = Number((await client.query<{ txid: string }>('SELECT txid_current()::text AS txid')).rows[0].txid);

    for (const name of options.tables) {
      const { schema, table: tableName } = splitTableName(name);
      // Read inside the snapshot: the columns are those the rows were written with.
      const shape = await tableShapeByName(client, schema, tableName);
      if (!shape) throw new SnapshotError(`table ${schema}.${tableName} disappeared during the snapshot`);
      const table = describeTable(options.ctx.name, schema, tableName, shape.columns, shape.keyColumns, options.options);
      const tableStartUs = now().us;
      progress.table = `${schema}.${tableName}`;
      progress.rows = 0;
      options.onProgress?.({ ...progress });

      const columns = table.columns.map((c) => quoteIdent(c.name)).join(', ');
      const order = shape.keyColumns.length ? ` ORDER BY ${shape.keyColumns.map(quoteIdent).join(', ')}` : '';
      await client.query(`DECLARE strangler_snapshot NO SCROLL CURSOR FOR SELECT ${columns} FROM ${qualifiedName(schema, tableName)}${order}`);
      for (;;) {
        if (options.isAborted?.()) throw new SnapshotAbortedError();
        const { rows } = await client.query<(string | null)[]>({ text: `FETCH FORWARD ${chunkRows} FROM strangler_snapshot`, rowMode: 'array', types: TEXT_TYPES });
        if (!rows.length) break;
        const records: ChangeRecord[] = [];
        for (const values of rows) {
          const released = markers.push(progress.table, { table, row: decodeRowValues(table, values), tableStartUs });
          if (released) records.push(toRecord(released));
        }
        options.output.write(records);
        total += rows.length;
        progress.rows += rows.length;
        options.onProgress?.({ ...progress });
        await options.output.whenWritable();
      }
      await client.query('CLOSE strangler_snapshot');
      progress.doneTables++;
      options.onProgress?.({ ...progress });
    }
    const last = markers.finish();
    if (last) options.output.write([toRecord(last)]);
    await client.query('COMMIT');
    return total;
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError(`snapshot failed: ${errorText(err)}`, { cause: err, retriable: true });
  } finally {
    await client.end().catch(() => undefined);
  }
}
