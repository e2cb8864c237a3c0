import { Client } from 'pg';
import { databaseName } from '../../lib/db/urls';
import type { TableMapping } from '../../control/plan';
import type { Row } from '../cdc/events/envelope';
import { ContextMapping, loadTables } from '../cdc/mapping';
import type { Direction, PipelineDefinition } from '../cdc/pipeline/definition';
import { ALL, boundaries, checksum, chunksFrom, countRows, fetchRows, fetchRowsByKeys, type FetchedRow, type KeyRange } from './chunks';
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
  /**
   * For live traffic: after the full pass, `settle()` (let the running pipelines catch up), then compare again only
   * the keys that differed, up to `rounds` times. A difference counts only if it outlives every round; the others were
   * changes in flight. Without it, a difference is whatever the one pass saw.
   */
  recheck?: { rounds: number; settle: () => Promise<void> };
}

/** More differing keys than this in a table is a divergence, not changes in flight: they are not re-checked. */
export const MAX_RECHECK_KEYS = 10_000;

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
  /** With `recheck`: differences of the full pass that were gone after the pipelines caught up (changes in flight). */
  inFlight?: number;
}

export interface ReconcileResult {
  context: {
    pipeline: string | null;
    direction: Direction;
    source: string;
    target: string;
    chunkSize: number;
    limit: number;
    /** Re-check rounds run (0 without `recheck`, or when the full pass was clean). */
    recheckRounds: number;
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
    const comparisons: { serviceTable: string; comparison: TableComparison }[] = [];
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
      await comparison.run((chunksDone, chunksTotal) =>
        options.onProgress?.({ table: serviceTable, tableIndex, tableCount: serviceTables.length, chunksDone, chunksTotal }),
      );
      comparisons.push({ serviceTable, comparison });
    }
    let recheckRounds = 0;
    if (options.recheck) {
      while (recheckRounds < options.recheck.rounds && comparisons.some((c) => c.comparison.recheckable)) {
        await options.recheck.settle();
        recheckRounds++;
        for (const c of comparisons) if (c.comparison.recheckable) await c.comparison.recheck();
      }
      // The first pass counted each table's rows before comparing its chunks, so a row in flight at that moment sits
      // in one count and not the other although no key differs. Once the pipelines have caught up, count again: the
      // figures then describe the settled tables, not a moment with changes in flight.
      if (comparisons.some((c) => c.comparison.countsDiffer)) {
        if (recheckRounds === 0) await options.recheck.settle();
        for (const c of comparisons) await c.comparison.recount();
      }
    }
    const results: TableReconciliation[] = comparisons.map(({ serviceTable, comparison }) => ({
      ...comparison.result(options.recheck !== undefined),
      embedded: setup.mapping.embedsInto(serviceTable).map((e) => e.monolithTable),
    }));
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
        recheckRounds,
        startedAt,
        finishedAt: new Date().toISOString(),
      },
      tables: results,
      // Row counts are read apart from the rows, so under live traffic they differ by what is in flight: with
      // re-checks, the keys decide alone (every key lies in some chunk, so no key difference means equal key sets).
      clean: results.every((r) => r.missingCount === 0 && r.extraCount === 0 && r.differentCount === 0 && (options.recheck !== undefined || r.sourceRows === r.targetRows)),
    };
  } finally {
    await Promise.all([monolithDb.end(), serviceDb.end()]);
  }
}

interface Endpoint {
  db: Client;
  side: MappedSide;
}

type Difference = { kind: 'missing' } | { kind: 'extra' } | { kind: 'different'; columns: string[] };

class TableComparison {
  private readonly counts: Pick<TableReconciliation, 'source' | 'target' | 'sourceRows' | 'targetRows' | 'chunks' | 'differingChunks'>;
  /** Every differing key (canonical key text) with its row key and what differs, until MAX_RECHECK_KEYS. */
  private differences = new Map<string, { key: Row; difference: Difference }>();
  private overflow = { missing: 0, extra: 0, different: 0 };
  private firstPassDifferences = 0;

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly chunkSize: number,
    private readonly limit: number,
  ) {
    this.counts = { source: source.side.table, target: target.side.table, sourceRows: 0, targetRows: 0, chunks: 0, differingChunks: 0 };
  }

  get recheckable(): boolean {
    return this.differences.size > 0 && this.overflowed === 0;
  }

  private get overflowed(): number {
    return this.overflow.missing + this.overflow.extra + this.overflow.different;
  }

  get countsDiffer(): boolean {
    return this.counts.sourceRows !== this.counts.targetRows;
  }

  async recount(): Promise<void> {
    const [sourceRows, targetRows] = await Promise.all([countRows(this.source.db, this.source.side), countRows(this.target.db, this.target.side)]);
    Object.assign(this.counts, { sourceRows, targetRows });
  }

  async run(progress: (done: number, total: number) => void): Promise<void> {
    await this.recount();
    const { sourceRows } = this.counts;
    // Chunk bounds come from the side with rows (the source, unless it is empty), in that database's key order.
    const by = sourceRows > 0 ? this.source : this.target;
    const chunks = chunksFrom(await boundaries(by.db, by.side, ALL, this.chunkSize));
    this.counts.chunks = chunks.length;
    progress(0, chunks.length);
    for (const [i, chunk] of chunks.entries()) {
      await this.compareChunk(chunk, true);
      progress(i + 1, chunks.length);
    }
    this.firstPassDifferences = this.differences.size + this.overflowed;
  }

  /** Compares the differing keys again: those now equal on both sides were in flight. */
  async recheck(): Promise<void> {
    const keys = [...this.differences.keys()];
    const [sourceRows, targetRows] = await Promise.all([
      fetchRowsByKeys(this.source.db, this.source.side, keys),
      fetchRowsByKeys(this.target.db, this.target.side, keys),
    ]);
    this.differences = new Map();
    this.classify(sourceRows, targetRows);
  }

  result(rechecked: boolean): Omit<TableReconciliation, 'embedded'> {
    const all = [...this.differences.values()];
    const of = (kind: Difference['kind']) => all.filter((d) => d.difference.kind === kind);
    const missing = of('missing');
    const extra = of('extra');
    const different = of('different');
    return {
      ...this.counts,
      missing: missing.slice(0, this.limit).map((d) => d.key),
      extra: extra.slice(0, this.limit).map((d) => d.key),
      different: different.slice(0, this.limit).map((d) => ({ key: d.key, columns: (d.difference as { columns: string[] }).columns })),
      missingCount: missing.length + this.overflow.missing,
      extraCount: extra.length + this.overflow.extra,
      differentCount: different.length + this.overflow.different,
      ...(rechecked ? { inFlight: this.firstPassDifferences - this.differences.size - this.overflowed } : {}),
    };
  }

  private record(keyText: string, key: Row, difference: Difference): void {
    if (this.differences.size < MAX_RECHECK_KEYS) this.differences.set(keyText, { key, difference });
    else this.overflow[difference.kind]++;
  }

  private classify(sourceRows: Map<string, FetchedRow>, targetRows: Map<string, FetchedRow>): void {
    for (const [key, row] of sourceRows) {
      const other = targetRows.get(key);
      if (!other) {
        this.record(key, row.key, { kind: 'missing' });
        continue;
      }
      const columns = differingColumns(row, other);
      if (columns.length) this.record(key, row.key, { kind: 'different', columns });
    }
    for (const [key, row] of targetRows) if (!sourceRows.has(key)) this.record(key, row.key, { kind: 'extra' });
  }

  private async compareChunk(range: KeyRange, top: boolean): Promise<void> {
    const [s, t] = await Promise.all([checksum(this.source.db, this.source.side, range), checksum(this.target.db, this.target.side, range)]);
    if (s.rows === t.rows && s.md5 === t.md5) return;
    if (top) this.counts.differingChunks++;
    // A chunk bounded by source keys can hold any number of target-only rows: split it by target keys first.
    if (t.rows > 2 * this.chunkSize) {
      const sub = chunksFrom(await boundaries(this.target.db, this.target.side, range, this.chunkSize), range);
      for (const r of sub) await this.compareChunk(r, false);
      return;
    }
    const [sourceRows, targetRows] = await Promise.all([fetchRows(this.source.db, this.source.side, range), fetchRows(this.target.db, this.target.side, range)]);
    this.classify(sourceRows, targetRows);
  }
}

function differingColumns(a: FetchedRow, b: FetchedRow): string[] {
  const names = new Set([...Object.keys(a.columns), ...Object.keys(b.columns)]);
  return [...names].filter((n) => a.columns[n] !== b.columns[n]).sort();
}
