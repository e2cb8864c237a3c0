import { tableShapeByName, type Queryable, type TableShape } from '../pg/catalog';
import { qualifiedName, quoteIdent, splitTableName } from '../pg/connection';
import { SlotBusyError, SourceSetupError } from '../pg/errors';
import { parseLsn, type Lsn } from '../pg/lsn';
import { sleep } from '../../../lib/retry';

export async function assertLogicalWal(db: Queryable): Promise<void> {
  const { rows } = await db.query<{ wal_level: string }>('SHOW wal_level');
  if (rows[0]?.wal_level !== 'logical') {
    throw new SourceSetupError(`the source server runs with wal_level=${rows[0]?.wal_level}; logical replication needs wal_level=logical`);
  }
}

export async function resolveTables(db: Queryable, tables: string[]): Promise<TableShape[]> {
  if (!tables.length) throw new SourceSetupError('the pipeline lists no source tables');
  const shapes: TableShape[] = [];
  for (const name of tables) {
    const { schema, table } = splitTableName(name);
    const shape = await tableShapeByName(db, schema, table);
    if (!shape) throw new SourceSetupError(`table ${schema}.${table} does not exist in the source database`);
    shapes.push(shape);
  }
  return shapes;
}

/**
 * FULL makes `before` carry every column on update and delete (DEFAULT would send only the key), which the sink
 * needs for conflict checks and Debezium's envelope promises. Costs more WAL per update: a deliberate trade.
 */
export async function ensureReplicaIdentityFull(db: Queryable, tables: TableShape[]): Promise<void> {
  for (const t of tables) {
    const { rows } = await db.query<{ relreplident: string }>('SELECT relreplident FROM pg_class WHERE oid = $1', [t.oid]);
    if (rows[0]?.relreplident !== 'f') await db.query(`ALTER TABLE ${qualifiedName(t.schema, t.table)} REPLICA IDENTITY FULL`);
  }
}

/** Creates the publication, or adds the tables it lacks. Never removes a table: that is what a reset is for. */
export async function ensurePublication(db: Queryable, publication: string, tables: TableShape[]): Promise<void> {
  const { rows: pubs } = await db.query<{ puballtables: boolean }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
  const list = (ts: TableShape[]) => ts.map((t) => qualifiedName(t.schema, t.table)).join(', ');
  if (!pubs.length) {
    try {
      await db.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${list(tables)}`);
      return;
    } catch (err) {
      // 42710 duplicate_object: created meanwhile by another process; fall through and add what is missing.
      if ((err as { code?: string }).code !== '42710') throw err;
    }
  } else if (pubs[0].puballtables) {
    return;
  }
  const { rows } = await db.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [publication],
  );
  const present = new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const missing = tables.filter((t) => !present.has(`${t.schema}.${t.table}`));
  if (missing.length) await db.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${list(missing)}`);
}

export interface SlotInfo {
  plugin: string | null;
  database: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: Lsn | null;
}

export async function readSlot(db: Queryable, slot: string): Promise<SlotInfo | null> {
  const { rows } = await db.query<{ plugin: string | null; database: string | null; active: boolean; active_pid: number | null; confirmed_flush_lsn: string | null }>(
    `SELECT plugin, database, active, active_pid, confirmed_flush_lsn::text AS confirmed_flush_lsn
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  if (!rows.length) return null;
  const r = rows[0];
  return {
    plugin: r.plugin,
    database: r.database,
    active: r.active,
    activePid: r.active_pid,
    confirmedFlushLsn: r.confirmed_flush_lsn ? parseLsn(r.confirmed_flush_lsn) : null,
  };
}

export function assertSlotIsOurs(slot: string, info: SlotInfo, database: string): void {
  if (info.plugin !== 'pgoutput' || info.database !== database) {
    throw new SourceSetupError(
      `replication slot ${slot} exists but is not a pgoutput slot of database ${database} (plugin ${info.plugin}, database ${info.database}); drop it or rename the pipeline`,
    );
  }
}

/**
 * Waits for the slot to be released. A source killed with SIGKILL leaves its walsender until Postgres notices the
 * closed socket, usually within milliseconds, hence a short wait rather than failing at once.
 */
export async function waitForSlotInactive(db: Queryable, slot: string, timeoutMs: number): Promise<SlotInfo | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await readSlot(db, slot);
    if (!info?.active) return info;
    if (Date.now() >= deadline) throw new SlotBusyError(slot, info.activePid);
    await sleep(100);
  }
}

export async function dropSlot(db: Queryable, slot: string, options: { waitMs: number; terminateActive?: boolean }): Promise<void> {
  let info: SlotInfo | null;
  try {
    info = await waitForSlotInactive(db, slot, options.waitMs);
  } catch (err) {
    if (!(err instanceof SlotBusyError) || !options.terminateActive) throw err;
    await db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active', [slot]);
    info = await waitForSlotInactive(db, slot, options.waitMs);
  }
  if (info) await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
}
