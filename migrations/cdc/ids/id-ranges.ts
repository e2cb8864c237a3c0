import { Client } from 'pg';
import type { TableMapping } from '../../../control/plan';
import { ContextMapping, quoteIdent } from '../mapping';
import type { PipelineDefinition } from '../pipeline/definition';
import { IdRangeError } from './errors';
import { idSpread, sequenceState, tableKey, type IdSpread, type KeySequence, type Skipped } from './sequences';

/**
 * The id strategy while both sides insert: one boundary splits the key space. The monolith's sequences keep
 * [1, boundary − 1] (capped with MAXVALUE, so they fail loudly instead of crossing over); the service's sequences
 * restart at the boundary. Rows copied either way keep their ids, and no side can produce an id the other one has or
 * will produce. 1 000 000 000 leaves the monolith a billion ids and fits a 32-bit `serial`.
 */
export const DEFAULT_ID_BOUNDARY = 1_000_000_000;

export interface IdRangeTargets {
  monolithUrl: string;
  serviceUrl: string;
  /** The plan's tables of the context (monolith table → mapping). */
  mapping: Record<string, TableMapping>;
}

export interface IdRangeOptions {
  boundary?: number;
  /** How long `assign` waits for the tables' write lock (default 5 000 ms). */
  lockTimeoutMs?: number;
}

export interface SequenceReport {
  sequence: string;
  lastValue: number | null;
  next: number;
  max: number;
}

export interface TableIdRange {
  monolithTable: string;
  serviceTable: string;
  monolith: SequenceReport | null;
  service: SequenceReport | null;
  /** Largest ids below and at-or-above the boundary, per side. */
  ids: { monolith: IdSpread; service: IdSpread };
  /** Why the table is not checked (no integer key with a sequence). */
  skipped?: string;
  problems: string[];
}

export interface IdRangeReport {
  ok: boolean;
  boundary: number;
  tables: TableIdRange[];
  problems: string[];
}

function targetsOf(input: PipelineDefinition | IdRangeTargets): IdRangeTargets {
  if ('monolithUrl' in input) return input;
  const [monolith, service] = input.direction === 'forward' ? [input.source, input.target] : [input.target, input.source];
  return { monolithUrl: monolith.databaseUrl, serviceUrl: service.databaseUrl, mapping: input.mapping };
}

function boundaryOf(options: IdRangeOptions): number {
  const boundary = options.boundary ?? DEFAULT_ID_BOUNDARY;
  if (!Number.isSafeInteger(boundary) || boundary < 2) throw new IdRangeError(`boundary must be an integer ≥ 2, got ${boundary}`);
  return boundary;
}

interface Pair {
  monolithTable: string;
  serviceTable: string;
  monolith: KeySequence | Skipped;
  service: KeySequence | Skipped;
  ids: { monolith: IdSpread; service: IdSpread };
}

async function withClients<T>(targets: IdRangeTargets, fn: (monolith: Client, service: Client) => Promise<T>): Promise<T> {
  const monolith = new Client({ connectionString: targets.monolithUrl, application_name: 'strangler-ids' });
  const service = new Client({ connectionString: targets.serviceUrl, application_name: 'strangler-ids' });
  await Promise.all([monolith.connect(), service.connect()]);
  try {
    return await fn(monolith, service);
  } finally {
    await Promise.all([monolith.end(), service.end()]);
  }
}

/** Tables whose rows exist on both sides: the plan's row mappings (embedded child rows have no service rows). */
function tablePairs(mapping: Record<string, TableMapping>): { context: ContextMapping; pairs: { monolithTable: string; serviceTable: string }[] } {
  const context = new ContextMapping(mapping);
  const pairs = context.serviceTables.map((serviceTable) => ({ monolithTable: context.rowsForServiceTable(serviceTable)!.monolithTable, serviceTable }));
  return { context, pairs };
}

async function readPairs(monolith: Client, service: Client, mapping: Record<string, TableMapping>, boundary: number): Promise<Pair[]> {
  const { context, pairs } = tablePairs(mapping);
  const out: Pair[] = [];
  for (const { monolithTable, serviceTable } of pairs) {
    const monoKey = await tableKey(monolith, monolithTable);
    const svcKey = await tableKey(service, serviceTable);
    const monoColumn = 'column' in monoKey ? monoKey.column : null;
    const svcColumn = 'column' in svcKey ? svcKey.column : monoColumn ? context.serviceColumn(context.rowsForServiceTable(serviceTable)!, monoColumn) : null;
    const none: IdSpread = { below: null, above: null };
    // Ids first, sequences after: an id that a concurrent insert commits was drawn from its sequence before, so a
    // sequence read afterwards is never behind an id read here. The other order reports phantom collisions under load.
    const ids = {
      monolith: monoColumn ? await idSpread(monolith, monolithTable, monoColumn, boundary) : none,
      service: svcColumn ? await idSpread(service, serviceTable, svcColumn, boundary) : none,
    };
    out.push({
      monolithTable,
      serviceTable,
      monolith: 'sequence' in monoKey ? await sequenceState(monolith, monoKey) : monoKey,
      service: 'sequence' in svcKey ? await sequenceState(service, svcKey) : svcKey,
      ids,
    });
  }
  return out;
}

/**
 * Holds off inserts into the given tables until the transaction ends, so a sequence can be moved without racing
 * `nextval`: `setval` is not relative, and moving a sequence that concurrent inserts just advanced would rewind it
 * onto ids already taken. SHARE ROW EXCLUSIVE lets reads through. The wait is bounded so that a long transaction on
 * the table fails the extraction with a reason instead of queueing every writer behind it.
 */
async function lockTables(db: Client, tables: string[], lockTimeoutMs: number): Promise<void> {
  await db.query('BEGIN');
  await db.query(`SET LOCAL lock_timeout = ${Math.floor(lockTimeoutMs)}`);
  try {
    await db.query(`LOCK TABLE ${tables.map((t) => `public.${quoteIdent(t)}`).join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    if ((err as { code?: string }).code === '55P03') {
      throw new IdRangeError(`could not lock ${tables.join(', ')} within ${lockTimeoutMs} ms to move their sequences (a long transaction holds them); try again`);
    }
    throw err;
  }
}

const maxOf = (...values: (number | null)[]) => values.reduce<number | null>((a, b) => (b === null ? a : a === null ? b : Math.max(a, b)), null);
const report = (s: KeySequence): SequenceReport => ({ sequence: s.sequence, lastValue: s.lastValue, next: s.next, max: s.max });

function judge(pair: Pair, boundary: number): TableIdRange {
  const problems: string[] = [];
  const out: TableIdRange = {
    monolithTable: pair.monolithTable,
    serviceTable: pair.serviceTable,
    monolith: 'sequence' in pair.monolith ? report(pair.monolith) : null,
    service: 'sequence' in pair.service ? report(pair.service) : null,
    ids: pair.ids,
    problems,
  };
  const skipped = [pair.monolith, pair.service].find((s): s is Skipped => 'skipped' in s);
  if (skipped) out.skipped = skipped.skipped;
  const below = maxOf(pair.ids.monolith.below, pair.ids.service.below);
  const above = maxOf(pair.ids.monolith.above, pair.ids.service.above);
  if ('sequence' in pair.monolith) {
    const m = pair.monolith;
    if (m.max >= boundary) problems.push(`monolith sequence ${m.sequence} can reach the service's range (MAXVALUE ${m.max} ≥ ${boundary})`);
    if (m.lastValue !== null && m.lastValue >= boundary) problems.push(`monolith sequence ${m.sequence} is at ${m.lastValue}, at or above the boundary ${boundary}`);
    if (below !== null && below >= m.next && m.next < boundary) {
      problems.push(`id ${below} of ${pair.monolithTable}/${pair.serviceTable} lies ahead of monolith sequence ${m.sequence} (next ${m.next})`);
    }
  }
  if ('sequence' in pair.service) {
    const s = pair.service;
    if (s.next < boundary) problems.push(`service sequence ${s.sequence} hands out ${s.next} next, below the boundary ${boundary}`);
    if (above !== null && above >= s.next) problems.push(`id ${above} of ${pair.monolithTable}/${pair.serviceTable} lies ahead of service sequence ${s.sequence} (next ${s.next})`);
  }
  return out;
}

/** Verifies that neither side can produce an id the other side has or will produce. */
export async function checkIdRanges(input: PipelineDefinition | IdRangeTargets, options: IdRangeOptions = {}): Promise<IdRangeReport> {
  const boundary = boundaryOf(options);
  const targets = targetsOf(input);
  const pairs = await withClients(targets, (monolith, service) => readPairs(monolith, service, targets.mapping, boundary));
  const tables = pairs.map((p) => judge(p, boundary));
  const problems = tables.flatMap((t) => t.problems);
  return { ok: problems.length === 0, boundary, tables, problems };
}

async function moveSequences(monolith: Client, service: Client, pair: Pair, boundary: number): Promise<void> {
  const below = maxOf(pair.ids.monolith.below, pair.ids.service.below);
  const above = maxOf(pair.ids.monolith.above, pair.ids.service.above);
  if ('sequence' in pair.monolith) {
    const m = pair.monolith;
    if (m.lastValue !== null && m.lastValue >= boundary) {
      throw new IdRangeError(`monolith sequence ${m.sequence} is already at ${m.lastValue}; choose a boundary above it`);
    }
    if (m.increment < 0) throw new IdRangeError(`monolith sequence ${m.sequence} counts down; not supported`);
    // Rows the sequence has not produced (inserted with explicit ids) would collide later: step past them.
    if (below !== null && below >= m.next) await monolith.query('SELECT setval($1::regclass, $2)', [m.sequence, below]);
    if (m.max > boundary - 1) await monolith.query(`ALTER SEQUENCE ${m.sequence} MAXVALUE ${boundary - 1}`);
  }
  if ('sequence' in pair.service) {
    const s = pair.service;
    const start = Math.max(boundary, (above ?? 0) + 1);
    if (start > s.max) throw new IdRangeError(`service sequence ${s.sequence} ends at ${s.max}, below ${start}; use a bigint key or a lower boundary`);
    if (s.next < start) await service.query('SELECT setval($1::regclass, $2, false)', [s.sequence, start]);
  }
}

/**
 * Run before the service takes writes (idempotent): caps the monolith's sequences below the boundary and moves the
 * service's to the boundary or past every id already there. Returns the check that follows.
 */
export async function assignDisjointIdRange(input: PipelineDefinition | IdRangeTargets, options: IdRangeOptions = {}): Promise<IdRangeReport> {
  const boundary = boundaryOf(options);
  const targets = targetsOf(input);
  const { pairs } = tablePairs(targets.mapping);
  if (pairs.length === 0) return checkIdRanges(targets, { boundary });
  await withClients(targets, async (monolith, service) => {
    const lockTimeoutMs = options.lockTimeoutMs ?? 5_000;
    // Always monolith first, then service: two extractions at once cannot deadlock.
    await lockTables(monolith, pairs.map((p) => p.monolithTable), lockTimeoutMs);
    try {
      await lockTables(service, pairs.map((p) => p.serviceTable), lockTimeoutMs);
    } catch (err) {
      await monolith.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    try {
      for (const pair of await readPairs(monolith, service, targets.mapping, boundary)) await moveSequences(monolith, service, pair, boundary);
      await monolith.query('COMMIT');
      await service.query('COMMIT');
    } catch (err) {
      await Promise.all([monolith.query('ROLLBACK').catch(() => undefined), service.query('ROLLBACK').catch(() => undefined)]);
      throw err;
    }
  });
  return checkIdRanges(targets, { boundary });
}
