import { Client } from 'pg';
import { databaseName } from '../../lib/db/urls';
import type { TableMapping } from '../../lib/plan';
import type { Row } from '../cdc/events/envelope';
import { ContextMapping, loadTables } from '../cdc/mapping';
import type { Direction, PipelineDefinition } from '../cdc/pipeline/definition';
import { ALL, boundaries, checksum, chunksFrom, countRows, fetchRows, type FetchedRow, type KeyRange } from './chunks';
import { ReconcileError } from './errors';
import { monolithSide, serviceSide, type MappedSide } from './mapped-side';

export interface ReconcileOptions {
  /** A pipeline: its source and target databases and mapping (reverse pipelines compare service → monolith). */
  definition?: PipelineDefinition;
  /** Without a definition: both databases and the context's plan tables; source = monolith. */
  monolithUrl?: string;
  serviceUrl?: string;
  mapping?: Record<string, TableMapping>;
  /** Keys per chunk checksum (default 1000). */
  chunkSize?: number;
  /** How many keys each of missing / extra / different lists at most (default 20); the counts are exact. */
  limit?: number;
  /** Only these service tables. */
  tables?: string[];
  onProgress?: (progress: ReconcileProgress) => void;
}

/** After each chunk: enough for a terminal progress bar. */
export interface ReconcileProgress {
  table: string;
  tableIndex: number;
  tableCount: number;
  chunksDone: number;
  chunksTotal: number;
}

export interface DifferentKey {
  key: Row;
  /** Service-side names of the columns whose values differ. */
  columns: string[];
}

export interface TableReconciliation {
  source: string;
  target: string;
  /** Monolith child tables folded into the service table, compared as its array column. */
  embedded: string[];
  sourceRows: number;
  targetRows: number;
  chunks: number;
  differingChunks: number;
  /** In the source, not in the target (first `limit`). Keys use the service's column names. */
  missing: Row[];
  /** In the target, not in the source. */
  extra: Row[];
  different: DifferentKey[];
  missingCount: number;
  extraCount: number;
  differentCount: number;
}

export interface ReconcileResult {
  context: {
    pipeline: string | null;
    direction: Direction;
    source: string;
    target: string;
    chunkSize: number;
    limit: number;
    startedAt: string;
    finishedAt: string;
  };
  tables: TableReconciliation[];
  clean: boolean;
}

interface Setup {
  direction: Direction;
  pipeline: string | null;
  monolithUrl: string;
  serviceUrl: string;
  mapping: ContextMapping;
}

function setupOf(options: ReconcileOptions): Setup {
  const d = options.definition;
  if (d) {
    const [monolith, service] = d.direction === 'forward' ? [d.source, d.target] : [d.target, d.source];
    return { direction: d.direction, pipeline: d.name, monolithUrl: monolith.databaseUrl, serviceUrl: service.databaseUrl, mapping: new ContextMapping(d.mapping) };
  }
  if (!options.monolithUrl || !options.serviceUrl || !options.mapping) {
    throw new ReconcileError('give a pipeline definition, or monolithUrl, serviceUrl and mapping');
  }
  return { direction: 'forward', pipeline: null, monolithUrl: options.monolithUrl, serviceUrl: options.serviceUrl, mapping: new ContextMapping(options.mapping) };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: 'strangler-reconcile' });
  await client.connect();
  // Both sides render timestamptz identically whatever the servers' settings.
  await client.query("SET TimeZone = 'UTC'");
  return client;
}

/**
 * Compares a context's tables between the monolith and the service through the plan's mapping: row counts, then
 * md5 checksums of chunks of keys, then, only inside chunks whose checksums differ, the rows themselves.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const chunkSize = options.chunkSize ?? 1000;
  const limit = options.limit ?? 20;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new ReconcileError(`chunkSize must be a positive integer, got ${chunkSize}`);
  if (!Number.isInteger(limit) || limit < 0) throw new ReconcileError(`limit must be a non-negative integer, got ${limit}`);
  const setup = setupOf(options);
  const startedAt = new Date().toISOString();
  const serviceTables = options.tables ?? setup.mapping.serviceTables;
  for (const t of serviceTables) if (!setup.mapping.rowsForServiceTable(t)) throw new ReconcileError(`the plan maps nothing to service table ${t}`);

  const [monolithDb, serviceDb] = await Promise.all([connect(setup.monolithUrl), connect(setup.serviceUrl)]);
  try {
    const monolithTables = await loadTables(monolithDb, setup.mapping.monolithTables);
    const serviceInfo = await loadTables(serviceDb, serviceTables);
    const results: TableReconciliation[] = [];
    for (const [tableIndex, serviceTable] of serviceTables.entries()) {
      const m = setup.mapping.rowsForServiceTable(serviceTable)!;
      const mono = monolithSide(setup.mapping, m, monolithTables, serviceInfo.get(serviceTable)!);
      const svc = serviceSide(setup.mapping, m, monolithTables.get(m.monolithTable)!, serviceInfo.get(serviceTable)!, mono.keyNames);
      const forward = setup.direction === 'forward';
      const comparison = new TableComparison(
        forward ? { db: monolithDb, side: mono } : { db: serviceDb, side: svc },
        forward ? { db: serviceDb, side: svc } : { db: monolithDb, side: mono },
        chunkSize,
        limit,
      );
      const result = await comparison.run((chunksDone, chunksTotal) =>
        options.onProgress?.({ table: serviceTable, tableIndex, tableCount: serviceTables.length, chunksDone, chunksTotal }),
      );
      results.push({ ...result, embedded: setup.mapping.embedsInto(serviceTable).map((e) => e.monolithTable) });
    }
    const monolithName = databaseName(setup.monolithUrl);
    const serviceName = databaseName(setup.serviceUrl);
    return {
      context: {
        pipeline: setup.pipeline,
        direction: setup.direction,
        source: setup.direction === 'forward' ? monolithName : serviceName,
        target: setup.direction === 'forward' ? serviceName : monolithName,
        chunkSize,
        limit,
        startedAt,
        finishedAt: new Date().toISOString(),
      },
      tables: results,
      clean: results.every((r) => r.missingCount === 0 && r.extraCount === 0 && r.differentCount === 0 && r.sourceRows === r.targetRows),
    };
  } finally {
    await Promise.all([monolithDb.end(), serviceDb.end()]);
  }
}

interface Endpoint {
  db: Client;
  side: MappedSide;
}

class TableComparison {
  private readonly out: Omit<TableReconciliation, 'embedded'>;

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly chunkSize: number,
    private readonly limit: number,
  ) {
    this.out = {
      source: source.side.table,
      target: target.side.table,
      sourceRows: 0,
      targetRows: 0,
      chunks: 0,
      differingChunks: 0,
      missing: [],
      extra: [],
      different: [],
      missingCount: 0,
      extraCount: 0,
      differentCount: 0,
    };
  }

  async run(progress: (done: number, total: number) => void): Promise<Omit<TableReconciliation, 'embedded'>> {
    const [sourceRows, targetRows] = await Promise.all([countRows(this.source.db, this.source.side), countRows(this.target.db, this.target.side)]);
    Object.assign(this.out, { sourceRows, targetRows });
    // Chunk bounds come from the side with rows (the source, unless it is empty), in that database's key order.
    const by = sourceRows > 0 ? this.source : this.target;
    const chunks = chunksFrom(await boundaries(by.db, by.side, ALL, this.chunkSize));
    this.out.chunks = chunks.length;
    progress(0, chunks.length);
    for (const [i, chunk] of chunks.entries()) {
      await this.compareChunk(chunk, true);
      progress(i + 1, chunks.length);
    }
    return this.out;
  }

  private async compareChunk(range: KeyRange, top: boolean): Promise<void> {
    const [s, t] = await Promise.all([checksum(this.source.db, this.source.side, range), checksum(this.target.db, this.target.side, range)]);
    if (s.rows === t.rows && s.md5 === t.md5) return;
    if (top) this.out.differingChunks++;
    // A chunk bounded by source keys can hold any number of target-only rows: split it by target keys first.
    if (t.rows > 2 * this.chunkSize) {
      const sub = chunksFrom(await boundaries(this.target.db, this.target.side, range, this.chunkSize), range);
      for (const r of sub) await this.compareChunk(r, false);
      return;
    }
    const [sourceRows, targetRows] = await Promise.all([fetchRows(this.source.db, this.source.side, range), fetchRows(this.target.db, this.target.side, range)]);
    for (const [key, row] of sourceRows) {
      const other = targetRows.get(key);
      if (!other) {
        this.out.missingCount++;
        if (this.out.missing.length < this.limit) this.out.missing.push(row.key);
        continue;
      }
      const columns = differingColumns(row, other);
      if (columns.length) {
        this.out.differentCount++;
        if (this.out.different.length < this.limit) this.out.different.push({ key: row.key, columns });
      }
    }
    for (const [key, row] of targetRows) {
      if (sourceRows.has(key)) continue;
      this.out.extraCount++;
      if (this.out.extra.length < this.limit) this.out.extra.push(row.key);
    }
  }
}

function differingColumns(a: FetchedRow, b: FetchedRow): string[] {
  const names = new Set([...Object.keys(a.columns), ...Object.keys(b.columns)]);
  return [...names].filter((n) => a.columns[n] !== b.columns[n]).sort();
}
