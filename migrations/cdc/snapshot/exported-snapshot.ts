import { Client } from 'pg';
import { quoteIdent, replicationConfig } from '../pg/connection';
import { SnapshotError, errorText } from '../pg/errors';
import { parseLsn, type Lsn } from '../pg/lsn';

/** A new slot and the snapshot of the database exactly at its consistent point. */
export interface ExportedSnapshot {
  slot: string;
  consistentPoint: Lsn;
  snapshotName: string;
  /** Ends the replication connection, which also ends the exported snapshot: call after the reads committed. */
  close(): Promise<void>;
}

/**
 * `CREATE_REPLICATION_SLOT … EXPORT_SNAPSHOT` on a replication connection. The snapshot stays importable only while
 * that connection is open and idle (its next command ends it), so the connection is handed back untouched.
 */
export async function createSlotWithSnapshot(databaseUrl: string, slot: string, applicationName: string): Promise<ExportedSnapshot> {
  const client = new Client(replicationConfig(databaseUrl, applicationName));
  client.on('error', () => undefined); // a broken connection surfaces as the snapshot's import failing
  try {
    await client.connect();
    const { rows } = await client.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    return {
      slot,
      consistentPoint: parseLsn(rows[0].consistent_point),
      snapshotName: rows[0].snapshot_name,
      close: () => client.end().catch(() => undefined),
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new SnapshotError(`could not create replication slot ${slot} with an exported snapshot: ${errorText(err)}`, { cause: err, retriable: true });
  }
}
