import type { Client } from 'pg';
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { quoteIdent } from '../pg/connection';

const keepText = (text: unknown) => text;

/**
 * pgoutput as the library reads it, with two changes:
 * - column values stay Postgres's text: the library would run pg's global type parsers (timestamps to Date, losing
 *   microseconds; int8 to string; json parsed), and we decode by type OID ourselves (events/values.ts) so the
 *   snapshot, which also reads text, produces identical JSON;
 * - `messages 'true'` always, for our heartbeats and the sinks' loop-guard marks.
 */
export class TextPgoutputPlugin extends PgoutputPlugin {
  constructor(publicationNames: string[]) {
    super({ protoVersion: 1, publicationNames, messages: true });
  }

  override parse(buffer: Buffer): Pgoutput.Message {
    const msg = super.parse(buffer);
    // Relations are cached by the parser and their column parsers used for every later row of that relation.
    if (msg.tag === 'relation') for (const column of msg.columns) column.parser = keepText;
    return msg;
  }

  override start(client: Client, slotName: string, lastLsn: string): Promise<unknown> {
    const options = [`proto_version '1'`, `publication_names '${this.options.publicationNames.map((p) => p.replace(/'/g, "''")).join(',')}'`, `messages 'true'`];
    return client.query(`START_REPLICATION SLOT ${quoteIdent(slotName)} LOGICAL ${lastLsn} (${options.join(', ')})`);
  }
}
