/**
 * Loop prevention, source side: a sink marks each transaction it writes, and the source of the opposite pipeline
 * (same context, other direction) drops every transaction carrying that mark, so a change never travels back to
 * where it came from.
 *
 * The mark is a transactional logical decoding message, `pg_logical_emit_message(true, 'strangler.sink',
 * '<pipeline>')`: it commits or rolls back with the sink's rows, reaches the source inside that same transaction
 * (pgoutput option `messages true`), costs one small WAL record, and needs no server-side state. Replication origins
 * with pgoutput's `origin 'none'` were the alternative; they were not chosen because an origin can be active in only
 * one session at a time (a pooled or parallel sink would collide), must be reset before a pooled connection is
 * reused, uses up replication-state slots, and `origin 'none'` drops every origin's changes, not just the opposite
 * pipeline's. Details in ./README.md.
 */

/** The message prefix that marks a sink's transaction. */
export const SINK_MARKER_PREFIX = 'strangler.sink';

interface SqlClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/**
 * Marks the current transaction as written by `pipelineName`'s sink. Call it inside the transaction, after BEGIN and
 * before the first write: the opposite source decides on the whole transaction when it sees the mark, so a mark
 * issued after changes it already let through cannot recall them. Outside a transaction it marks nothing useful.
 */
export async function markSinkTransaction(client: SqlClient, pipelineName: string): Promise<void> {
  await client.query('SELECT pg_logical_emit_message(true, $1, $2)', [SINK_MARKER_PREFIX, pipelineName]);
}

/** `users-forward` ↔ `users-reverse`: the pipeline whose sink writes into this pipeline's source database. */
export function oppositePipeline(pipelineName: string): string {
  const m = /^(.*)-(forward|reverse)$/.exec(pipelineName);
  if (!m) return `${pipelineName}-reverse`;
  return `${m[1]}-${m[2] === 'forward' ? 'reverse' : 'forward'}`;
}
