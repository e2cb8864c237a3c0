import { execFileSync } from 'node:child_process';
import type { Client } from 'pg';
import { runTimed } from './shell-timed';

/** `pg_recvlogical (PostgreSQL) 15.20 (Debian …)` → `15.20`, or null when it is not installed. */
export function pgRecvlogicalVersion(): string | null {
  try {
    const out = execFileSync('pg_recvlogical', ['--version'], { encoding: 'utf8' });
    return /\d+(\.\d+)*/.exec(out)?.[0] ?? out.trim();
  } catch {
    return null;
  }
}

/**
 * A pgoutput slot and a publication of the table for pg_recvlogical, made before the burst so it decodes exactly
 * the changes our source does. Same plugin and protocol version as our source, so the difference is ours alone.
 */
export async function createRawSlot(db: Client, slot: string, publication: string, table: string): Promise<void> {
  await db.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
  await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
}

export async function dropRawSlot(db: Client, slot: string, publication: string): Promise<void> {
  await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  await db.query(`DROP PUBLICATION IF EXISTS ${publication}`);
}

/**
 * pg_recvlogical streams the slot to /dev/null and exits on its own once it has received everything up to
 * `endLsn` (`-E`): the wall time is decoding's, start to finish, with nothing done to the output.
 */
export function rawDecode(databaseUrl: string, slot: string, publication: string, endLsn: string): Promise<{ seconds: number; cpuMs: number | null }> {
  return runTimed(
    'pg_recvlogical',
    '"$0" -d "$1" -S "$2" --start -o proto_version=1 -o "publication_names=$3" -E "$4" -f /dev/null',
    ['pg_recvlogical', databaseUrl, slot, publication, endLsn],
  );
}
