import { Client, type CustomTypesConfig, type PoolClient } from 'pg';
import { decodeRowValues, describeTable, keyOf, type CapturedTable, type SourceContext } from '../events/change-events';
import { topicFor, type Row } from '../events/envelope';
import { ContextMapping, loadTables, quoteIdent, type EmbedMapping, type RowsMapping, type TableInfo } from '../mapping';
import { eventOptionsOf, type PipelineDefinition } from '../pipeline/definition';
import { ensureSinkSchema } from '../sink/sink-schema';
import { rememberSourceColumns } from '../sink/source-columns';
import { validateTarget } from '../sink/target';
import { tableShapeByName, type TableShape } from '../pg/catalog';
import { qualifiedName, readerConfig, splitTableName } from '../pg/connection';
import { SnapshotError, errorText } from '../pg/errors';
import { formatLsn, type Lsn } from '../pg/lsn';
import { pipeCopy, CopyIn } from './copy';
import { SnapshotAbortedError } from './snapshot-reader';
import { migrateOwnedSchema, type OwnedSchema } from '../../../lib/db/schema-migrations';

/**
 * The bulk initial load: the exported snapshot copied straight into the target with COPY, the way `pg_dump | psql`
 * does it, instead of one Kafka event per row. Several reader connections import the same snapshot
 * (`SET TRANSACTION SNAPSHOT`), so together they see exactly the rows committed before the slot's consistent point;
 * each takes ctid ranges of a table from a shared queue and pipes them, through the plan's mapping, into the target
 * on a connection of its own. Streaming then starts at the consistent point, so no row is lost or doubled at the
 * seam: the stream carries only what committed after it.
 *
 * - Renames and drops are column lists (`COPY (SELECT email, name …) TO` → `COPY users (email, full_name) FROM`).
 * - An embedded child table (order_items → orders.items) is decoded like a snapshot event and parked in
 *   `strangler_cdc.embedded_rows`, exactly as the sink does with streamed children; the parents' arrays are built
 *   from there once every chunk is in, so later child changes find what they expect.
 * - Target writes run as the sink's do: replica mode (no foreign-key order between tables, no local-write stamps)
 *   and marked for the loop guard, so an opposite pipeline's source never captures them.
 */

export interface BulkLoadProgress {
  /** Rows copied so far (parents and children). */
  rows: number;
  /** The planner's estimate of all rows (pg_class.reltuples); null when the tables were never analysed. */
  totalRows: number | null;
  doneChunks: number;
  totalChunks: number;
  rowsPerSecond: number;
  /** Seconds left at the current rate; null without an estimate. */
  etaSeconds: number | null;
}

export interface BulkLoadOptions {
  definition: PipelineDefinition;
  snapshotName: string;
  consistentPoint: Lsn;
  applicationName: string;
  ctx: SourceContext;
  /** Runs first in every target transaction (the sink's loop-guard mark). */
  markTransaction: (client: PoolClient, pipeline: string) => Promise<void>;
  /** Reader/writer connection pairs (default 4). */
  parallel?: number;
  /** Heap pages per chunk (default 2048, 16 MB). */
  chunkPages?: number;
  /** Truncate target tables that hold rows instead of refusing (`--force`). */
  truncate?: boolean;
  onProgress?: (p: BulkLoadProgress) => void;
  isAborted?: () => boolean;
}

/**
 * The load cannot work as the plan and the target stand: a non-empty target table without `--force`, or rows the
 * target rejects (a type, a constraint, a column). Never retried: the operator has to act.
 */
export class BulkLoadRefusedError extends SnapshotError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'BulkLoadRefusedError';
  }
}

interface Chunk {
  table: string;
  /** Heap pages [from, to); `to` null = to the end. */
  from: number;
  to: number | null;
}

interface SourceTable {
  mapping: RowsMapping | EmbedMapping;
  shape: TableShape;
  captured: CapturedTable;
}

/** Every value as Postgres's text, as the snapshot reader and pgoutput see them. */
const TEXT_TYPES: CustomTypesConfig = { getTypeParser: () => (value: string) => value } as unknown as CustomTypesConfig;

/** Step 1 says IF NOT EXISTS because databases made before the ledger already hold the table. */
export const BULK_LOAD_SCHEMA: OwnedSchema = {
  owner: 'bulk-load',
  schema: 'strangler_cdc',
  steps: [
    {
      version: 1,
      name: 'bulk loads',
      statements: [
        `CREATE TABLE IF NOT EXISTS strangler_cdc.bulk_loads (
          pipeline          text PRIMARY KEY,
          state             text NOT NULL,
          consistent_point  pg_lsn NOT NULL,
          rows              bigint NOT NULL DEFAULT 0,
          started_at        timestamptz NOT NULL DEFAULT now(),
          finished_at       timestamptz
        )`,
      ],
    },
  ],
};

/**
 * Called once the source has recorded its snapshot as complete: from here on the loaded rows are the stream's, and a
 * later load (after the slot was lost) must not take them for its own leftovers.
 */
export async function confirmBulkLoad(targetUrl: string, pipeline: string, applicationName: string): Promise<void> {
  const client = new Client(readerConfig(targetUrl, applicationName));
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`UPDATE strangler_cdc.bulk_loads SET state = 'streaming' WHERE pipeline = $1`, [pipeline]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function bulkLoad(options: BulkLoadOptions): Promise<number> {
  const { definition } = options;
  if (definition.direction !== 'forward') throw new SnapshotError(`bulk load: ${definition.name} is not a forward pipeline`);
  const mapping = new ContextMapping(definition.mapping);
  const started = Date.now();
  const readers: Client[] = [];
  const writers: Client[] = [];
  const connect = async (config: ConstructorParameters<typeof Client>[0], list: Client[]) => {
    const client = new Client(config);
    client.on('error', () => undefined); // surfaces as the query in progress failing
    list.push(client);
    await client.connect();
    return client;
  };
  const sourceConfig = readerConfig(definition.source.databaseUrl, options.applicationName);
  const targetConfig = readerConfig(definition.target.databaseUrl, `${options.applicationName}-load`);
  try {
    const parallel = Math.max(1, options.parallel ?? 4);
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        const reader = await connect(sourceConfig, readers);
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await reader.query(`SET TRANSACTION SNAPSHOT '${options.snapshotName.replace(/'/g, "''")}'`);
        await connect(targetConfig, writers);
      }),
    );
    const targets = await prepareTarget(writers[0] as unknown as PoolClient, options, mapping);
    const sources = await describeSources(readers[0], options, mapping);
    const { chunks, estimate } = await planChunks(readers[0], sources, options.chunkPages ?? 2048);

    const progress: BulkLoadProgress = { rows: 0, totalRows: estimate, doneChunks: 0, totalChunks: chunks.length, rowsPerSecond: 0, etaSeconds: null };
    const report = () => {
      const seconds = (Date.now() - started) / 1000;
      progress.rowsPerSecond = seconds > 0 ? Math.round(progress.rows / seconds) : 0;
      progress.etaSeconds =
        progress.totalRows !== null && progress.rowsPerSecond > 0 ? Math.max(0, Math.round((progress.totalRows - progress.rows) / progress.rowsPerSecond)) : null;
      options.onProgress?.({ ...progress });
    };
    report();

    const queue = [...chunks];
    let failed: unknown = null;
    await Promise.all(
      readers.map(async (reader, i) => {
        const writer = writers[i] as unknown as PoolClient;
        for (let chunk = queue.shift(); chunk && !failed; chunk = queue.shift()) {
          try {
            if (options.isAborted?.()) throw new SnapshotAbortedError();
            const source = sources.get(chunk.table)!;
            const rows = await inTargetTransaction(writer, options, () =>
              source.mapping.kind === 'rows'
                ? copyRows(reader, writer, source, source.mapping, targets, mapping, chunk)
                : copyChildren(reader, writer, source, source.mapping, targets, mapping, definition.name, chunk),
            );
            progress.rows += rows;
            progress.doneChunks++;
            report();
          } catch (err) {
            const refused = rejectedByTarget(err) ? new BulkLoadRefusedError(`bulk load of ${definition.name} failed on ${chunk.table}: ${errorText(err)}; change the plan's mapping or the service's schema`) : err;
            failed ??= refused; // the other connections stop after their chunk in progress
            throw refused;
          }
        }
      }),
    );
    await inTargetTransaction(writers[0] as unknown as PoolClient, options, async (client) => {
      for (const serviceTable of mapping.serviceTables) {
        for (const embed of mapping.embedsInto(serviceTable)) await buildArrays(client, definition.name, embed, targets.get(serviceTable)!);
      }
      // A monolith migration during the load drops or renames a column before the first streamed change: the sink
      // must know the columns the loaded rows had to notice it.
      for (const [name, source] of sources) {
        await rememberSourceColumns(client, definition.name, splitTableName(name).table, source.shape.columns.map((c) => c.name));
      }
      await client.query(`UPDATE strangler_cdc.bulk_loads SET state = 'loaded', rows = $2, finished_at = now() WHERE pipeline = $1`, [definition.name, progress.rows]);
      return 0;
    });
    // A planner without statistics picks a scan per row for the sink's first statements (see sink/statistics.ts).
    for (const t of targets.values()) await writers[0].query(`ANALYZE ${qualifiedName(t.schema, t.name)}`);
    if (mapping.serviceTables.some((t) => mapping.embedsInto(t).length)) await writers[0].query('ANALYZE strangler_cdc.embedded_rows');
    for (const reader of readers) await reader.query('COMMIT');
    return progress.rows;
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError(`bulk load failed: ${errorText(err)}`, { cause: err, retriable: true });
  } finally {
    await Promise.all([...readers, ...writers].map((c) => c.end().catch(() => undefined)));
  }
}

/** SQLSTATE classes 22 (data), 23 (constraint), 42 (schema; 42501 is a privilege, which may be granted meanwhile). */
function rejectedByTarget(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code) && code !== '42501';
}

async function inTargetTransaction<T>(client: PoolClient, options: BulkLoadOptions, work: (client: PoolClient) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL session_replication_role = replica');
    await options.markTransaction(client, options.definition.name);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Checks the plan against the target, makes sure the tables are empty (or empties them, when allowed) and records
 * the load, all in one transaction. The sink's offset rows get the consistent point as their position, so events a
 * previous incarnation of the pipeline left in the topics are taken for repeats, not applied over the loaded rows.
 */
async function prepareTarget(client: PoolClient, options: BulkLoadOptions, mapping: ContextMapping): Promise<Map<string, TableInfo>> {
  const { definition } = options;
  const tables = await loadTables(client, mapping.serviceTables);
  validateTarget('forward', mapping, tables);
  // The sink's tables (it normally made them already); its triggers are the sink's business.
  await ensureSinkSchema(client, []);
  await migrateOwnedSchema(client, BULK_LOAD_SCHEMA);
  await inTargetTransaction(client, options, async () => {
    const { rows: previous } = await client.query<{ state: string }>('SELECT state FROM strangler_cdc.bulk_loads WHERE pipeline = $1 FOR UPDATE', [definition.name]);
    // 'loading' or 'loaded': rows an earlier attempt of this pipeline left, whose streaming never started.
    const own = previous.length > 0 && previous[0].state !== 'streaming';
    const filled: string[] = [];
    for (const t of tables.values()) {
      const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${qualifiedName(t.schema, t.name)}) AS any`);
      if (rows[0].any) filled.push(`${definition.target.database}.${t.schema}.${t.name}`);
    }
    if (filled.length && !own && !options.truncate) {
      throw new BulkLoadRefusedError(
        `bulk load of ${definition.name} refused: target table ${filled.join(', ')} is not empty; ` +
          `empty it, or run again with --force to truncate it first`,
      );
    }
    if (filled.length) await client.query(`TRUNCATE ${[...tables.values()].map((t) => qualifiedName(t.schema, t.name)).join(', ')}`);
    await client.query('DELETE FROM strangler_cdc.embedded_rows WHERE pipeline = $1', [definition.name]);
    await client.query(
      `INSERT INTO strangler_cdc.bulk_loads (pipeline, state, consistent_point) VALUES ($1, 'loading', $2::pg_lsn)
       ON CONFLICT (pipeline) DO UPDATE SET state = 'loading', consistent_point = EXCLUDED.consistent_point, rows = 0, started_at = now(), finished_at = NULL`,
      [definition.name, formatLsn(options.consistentPoint)],
    );
    // Same encoding as sink/position.ts gives a snapshot read at the consistent point: every change streamed from
    // the new slot sorts after it, every change of an older slot before it.
    const position = (options.consistentPoint << 65n).toString();
    for (const table of definition.source.tables) {
      const { schema, table: name } = splitTableName(table);
      await client.query(
        `INSERT INTO strangler_cdc.sink_offsets AS o (pipeline, topic, "partition", "offset", position) VALUES ($1, $2, 0, -1, $3)
         ON CONFLICT (pipeline, topic, "partition") DO UPDATE SET position = GREATEST(o.position, EXCLUDED.position), updated_at = now()`,
        [definition.name, topicFor(definition.topicPrefix, schema, name), position],
      );
    }
    return 0;
  });
  return tables;
}

/** The source tables as the snapshot sees them (read inside it: the columns are those its rows were written with). */
async function describeSources(reader: Client, options: BulkLoadOptions, mapping: ContextMapping): Promise<Map<string, SourceTable>> {
  const out = new Map<string, SourceTable>();
  for (const name of options.definition.source.tables) {
    const { schema, table } = splitTableName(name);
    const m = mapping.forMonolithTable(table);
    if (!m) throw new BulkLoadRefusedError(`bulk load: the plan does not map monolith table ${name}`);
    const shape = await tableShapeByName(reader, schema, table);
    if (!shape) throw new SnapshotError(`table ${schema}.${table} disappeared during the snapshot`);
    out.set(name, { mapping: m, shape, captured: describeTable(options.ctx.name, schema, table, shape.columns, shape.keyColumns, eventOptionsOf(options.definition)) });
  }
  return out;
}

/** ctid ranges of `chunkPages` heap pages; the last range of each table is open, so pages added since count too. */
async function planChunks(reader: Client, sources: Map<string, SourceTable>, chunkPages: number): Promise<{ chunks: Chunk[]; estimate: number | null }> {
  const chunks: Chunk[] = [];
  let estimate: number | null = 0;
  for (const [name, s] of sources) {
    const { rows } = await reader.query<{ pages: string; tuples: number }>(
      `SELECT pg_relation_size(oid) / current_setting('block_size')::bigint AS pages, reltuples AS tuples FROM pg_class WHERE oid = $1`,
      [s.shape.oid],
    );
    const pages = Number(rows[0]?.pages ?? 0);
    const tuples = rows[0]?.tuples ?? -1;
    estimate = estimate === null || tuples < 0 ? null : estimate + tuples;
    for (let from = 0; ; from += chunkPages) {
      const last = from + chunkPages >= pages;
      chunks.push({ table: name, from, to: last ? null : from + chunkPages });
      if (last) break;
    }
  }
  // Biggest tables first would balance better, but a table's chunks are equal anyway; interleave tables so the
  // connections do not all queue on one table's pages.
  return { chunks: chunks.sort((a, b) => a.from - b.from), estimate };
}

const ctidRange = (c: Chunk) => `ctid >= '(${c.from},0)'::tid${c.to === null ? '' : ` AND ctid < '(${c.to},0)'::tid`}`;

async function copyRows(
  reader: Client,
  writer: PoolClient,
  source: SourceTable,
  m: RowsMapping,
  targets: Map<string, TableInfo>,
  mapping: ContextMapping,
  chunk: Chunk,
): Promise<number> {
  const target = targets.get(m.serviceTable)!;
  const from: string[] = [];
  const to: string[] = [];
  for (const column of source.shape.columns) {
    const into = mapping.serviceColumn(m, column.name);
    if (into === null) continue;
    if (!target.columns.has(into)) {
      throw new BulkLoadRefusedError(
        `bulk load: ${target.name} has no column ${into} for ${m.monolithTable}.${column.name}; rename or drop it in the plan, or add it to the service`,
      );
    }
    from.push(quoteIdent(column.name));
    to.push(quoteIdent(into));
  }
  // A parent's arrays start empty, as the sink inserts them; buildArrays fills those that have children.
  for (const embed of mapping.embedsInto(m.serviceTable)) {
    from.push(`'[]'`);
    to.push(quoteIdent(embed.column));
  }
  const { schema, table } = splitTableName(chunk.table);
  return pipeCopy(
    reader,
    `COPY (SELECT ${from.join(', ')} FROM ${qualifiedName(schema, table)} WHERE ${ctidRange(chunk)}) TO STDOUT`,
    writer as unknown as Client,
    `COPY ${qualifiedName(target.schema, target.name)} (${to.join(', ')}) FROM STDIN`,
  );
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
const copyText = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

/**
 * Children of an embed: decoded as a snapshot event would be and parked as the sink parks streamed children (same
 * key, element and sort value), so a later change of the child finds its entry. A child without a parent key has
 * nowhere to go and is left out, as the sink dead-letters it.
 */
async function copyChildren(
  reader: Client,
  writer: PoolClient,
  source: SourceTable,
  m: EmbedMapping,
  targets: Map<string, TableInfo>,
  mapping: ContextMapping,
  pipeline: string,
  chunk: Chunk,
): Promise<number> {
  const parentPk = targets.get(m.serviceTable)!.primaryKey[0];
  const { schema, table } = splitTableName(chunk.table);
  const columns = source.shape.columns.map((c) => quoteIdent(c.name)).join(', ');
  const { rows } = await reader.query<(string | null)[]>({
    text: `SELECT ${columns} FROM ${qualifiedName(schema, table)} WHERE ${ctidRange(chunk)}`,
    rowMode: 'array',
    types: TEXT_TYPES,
  });
  const copy = new CopyIn('COPY strangler_cdc.embedded_rows (pipeline, child_table, child_key, parent_key, sort_value, element) FROM STDIN');
  void writer.query(copy as never);
  await copy.accepting;
  const head = `${copyText(pipeline)}\t${copyText(m.monolithTable)}\t`;
  for (const values of rows) {
    const row: Row = decodeRowValues(source.captured, values);
    const parent = row[m.parentKey];
    if (parent === null || parent === undefined) continue;
    const fields = [
      keyOf(source.captured, row)!,
      JSON.stringify({ [parentPk]: parent }),
      JSON.stringify(m.orderBy ? (row[m.orderBy] ?? null) : null),
      JSON.stringify(mapping.toElement(m, row)),
    ];
    copy.write(Buffer.from(`${head}${fields.map(copyText).join('\t')}\n`));
    if (copy.congested) await copy.drained();
  }
  return copy.end();
}

/** The arrays of parents with children, built from the parked children exactly as the sink builds them. */
async function buildArrays(client: PoolClient, pipeline: string, embed: EmbedMapping, parent: TableInfo): Promise<void> {
  const pk = parent.primaryKey[0];
  const table = qualifiedName(parent.schema, parent.name);
  const column = quoteIdent(embed.column);
  await client.query(
    `UPDATE ${table} p SET ${column} = a.items
       FROM (SELECT e.parent_key ->> $3 AS k, jsonb_agg(e.element ORDER BY e.sort_value, e.child_key) AS items
               FROM strangler_cdc.embedded_rows e WHERE e.pipeline = $1 AND e.child_table = $2 GROUP BY 1) a
      WHERE p.${quoteIdent(pk)} = a.k::${quoteIdent(parent.columns.get(pk)!.type)}`,
    [pipeline, embed.monolithTable, pk],
  );
}
