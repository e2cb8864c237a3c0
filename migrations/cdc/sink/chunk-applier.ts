import type { Pool, PoolClient } from 'pg';
import type { Message, ReceivedMessage } from '../../../lib/messaging/types';
import type { Direction } from '../pipeline/definition';
import { lockSinkOffset, saveSinkOffset } from '../offsets/sink-offsets';
import { eventPosition } from './position';
import { withClient } from './pooled';
import type { ApplyContext, ApplyResult, Change, Conflict } from './apply-context';
import { recordConflicts } from './conflicts';
import { deadLetterMessage } from './dead-letter';
import { decodeMessage, type Decoded } from './decode';
import { SchemaChangeError, asPoison, isMisfit, isPoison } from './errors';
import { bulkForward } from './bulk-forward';
import { bulkReverse } from './bulk-reverse';
import { applyForward } from './forward-apply';
import type { MarkSinkTransaction } from './loop-guard-hook';
import { checkColumns, misfitError, saveSourceColumns } from './source-columns';
import { StatisticsKeeper } from './statistics';
import { qualified } from './sql';
import { applyReverse } from './reverse-apply';

export interface ConflictRecord extends Conflict {
  offset: string;
}

export interface DeadLetterRecord {
  offset: string;
  error: string;
}

/** What one committed chunk did. */
export interface ChunkOutcome {
  /** Messages new to this target (not at or below the stored offset). */
  fresh: number;
  duplicates: number;
  applied: number;
  /** Changes older than what the same source row already has (a source repeating events after a crash). */
  stale: number;
  /** Snapshot reads left out (`skipSnapshotReads`). */
  skippedReads: number;
  conflicts: ConflictRecord[];
  deadLetters: DeadLetterRecord[];
  lastSourceTs: number | null;
  /**
   * A schema change the target cannot follow stopped the chunk at this change: what came before it is committed
   * (`fresh` counts it), the change itself and the rest are not.
   */
  halted?: SchemaChangeError;
}

interface Item {
  message: ReceivedMessage;
  decoded?: Decoded;
  poison?: unknown;
  /** Below the partition's position mark: a repeat of what was applied already. */
  stale?: boolean;
  /** A snapshot read the sink does not apply. */
  skippedRead?: boolean;
}

export interface ChunkApplierOptions {
  ctx: ApplyContext;
  direction: Direction;
  markTransaction: MarkSinkTransaction;
  /** Leave `op: "r"` events out (see CdcSinkOptions.snapshotReads). */
  skipSnapshotReads: boolean;
  sendDeadLetters: (messages: Message[]) => Promise<void>;
}

/**
 * Applies consecutive messages of one partition in ONE target transaction together with the partition's offset.
 * Optimistic first: no savepoints. If an event turns out to be poison, the transaction is rolled back and redone with
 * a savepoint per event, so only the poison events are left out and dead-lettered, before the commit (a crash before
 * the commit sends them again: the dead-letter topic is at least once).
 */
export class ChunkApplier {
  private readonly applyChange: (client: PoolClient, ctx: ApplyContext, change: Change) => Promise<ApplyResult>;
  private readonly applyRun: (client: PoolClient, ctx: ApplyContext, table: string, changes: Change[]) => Promise<ApplyResult[]>;

  private readonly statistics: StatisticsKeeper;

  constructor(private readonly options: ChunkApplierOptions) {
    const own = ['sink_offsets', 'row_versions', 'embedded_rows'].map((t) => `strangler_cdc.${t}`);
    this.statistics = new StatisticsKeeper([...own, ...[...options.ctx.tables.values()].map(qualified)]);
    this.applyChange = options.direction === 'forward' ? applyForward : applyReverse;
    this.applyRun = options.direction === 'forward' ? bulkForward : bulkReverse;
  }

  async apply(pool: Pool, topic: string, partition: number, messages: ReceivedMessage[]): Promise<ChunkOutcome> {
    const items: Item[] = messages.map((message) => {
      try {
        return { message, decoded: decodeMessage(message) };
      } catch (err) {
        return { message, poison: err };
      }
    });
    return withClient(pool, async (client) => {
      let outcome: ChunkOutcome;
      try {
        outcome = await this.transaction(client, topic, partition, items, false);
      } catch (err) {
        if (!isPoison(err) && !(err instanceof SchemaChangeError)) throw err;
        outcome = await this.transaction(client, topic, partition, items, true);
      }
      await this.statistics.afterCommit(client, outcome.fresh);
      return outcome;
    });
  }

  private async transaction(client: PoolClient, topic: string, partition: number, items: Item[], careful: boolean): Promise<ChunkOutcome> {
    const { ctx } = this.options;
    await client.query('BEGIN');
    try {
      await this.options.markTransaction(client, ctx.pipeline);
      // What Postgres' own apply worker does: FK and user triggers stay quiet for replicated rows, so the changes of
      // one source transaction apply in whatever order their topics deliver them.
      await client.query('SET LOCAL session_replication_role = replica');
      const stored = await lockSinkOffset(client, ctx.pipeline, topic, partition);
      const fresh = items.filter((i) => BigInt(i.message.offset) > stored.offset);
      const position = markRepeats(fresh, stored.position);
      const out: ChunkOutcome = { fresh: fresh.length, duplicates: items.length - fresh.length, applied: 0, stale: 0, skippedReads: 0, conflicts: [], deadLetters: [], lastSourceTs: null };
      if (!fresh.length) {
        await client.query('ROLLBACK');
        return out;
      }
      const dead: Message[] = [];
      const seen = new Map(ctx.sourceColumns);
      const bury = (item: Item, err: unknown) => {
        const poison = asPoison(err);
        dead.push(deadLetterMessage(ctx.pipeline, item.message, poison));
        out.deadLetters.push({ offset: item.message.offset, error: poison.message });
      };
      const tally = (item: Item, change: Change, result: ApplyResult) => {
        if (result.status !== 'ignored' && result.conflict) out.conflicts.push({ ...result.conflict, offset: item.message.offset });
        if (result.status === 'applied') {
          out.applied++;
          out.lastSourceTs = change.event.source.ts_ms;
        }
      };
      const commit = async (done: Item[], mark: bigint | null) => {
        await recordConflicts(client, ctx.pipeline, ctx.direction, out.conflicts);
        await saveSinkOffset(client, ctx.pipeline, topic, partition, { offset: BigInt(done[done.length - 1].message.offset), position: mark });
        const columnsChanged = await saveSourceColumns(client, ctx.pipeline, ctx.sourceColumns, seen);
        if (dead.length) await this.options.sendDeadLetters(dead);
        await client.query('COMMIT');
        if (columnsChanged) for (const [table, columns] of seen) ctx.sourceColumns.set(table, columns);
      };
      /** Commits what came before the k-th fresh message, and stops there: that change and the rest wait. */
      const halt = async (k: number, err: SchemaChangeError): Promise<ChunkOutcome> => {
        const done = fresh.slice(0, k);
        if (!done.length) {
          await client.query('ROLLBACK');
          return { ...out, fresh: 0, halted: err };
        }
        const mark = markRepeats(done, stored.position);
        await commit(done, mark);
        const stale = done.filter((i) => i.stale).length;
        return { ...out, fresh: done.length, stale, skippedReads: done.filter((i) => i.skippedRead && !i.stale).length, halted: err };
      };
      if (this.options.skipSnapshotReads) {
        for (const i of fresh) i.skippedRead = i.decoded?.kind === 'change' && i.decoded.event.op === 'r';
      }
      out.stale = fresh.filter((i) => i.stale).length;
      out.skippedReads = fresh.filter((i) => i.skippedRead && !i.stale).length;
      if (!careful) {
        for (const item of fresh) if (item.poison !== undefined) bury(item, item.poison);
        for (const run of runsOf(fresh)) {
          // A schema change the target cannot follow: the careful path finds where to stop.
          for (const item of run.items) {
            const changed = checkColumns(ctx, seen, item.decoded as Change);
            if (changed) throw changed;
          }
          const results = await this.applyRun(client, ctx, run.table, run.items.map((i) => i.decoded as Change));
          run.items.forEach((item, i) => tally(item, item.decoded as Change, results[i]));
        }
      } else {
        for (const [k, item] of fresh.entries()) {
          if (item.poison !== undefined) {
            bury(item, item.poison);
            continue;
          }
          if (item.decoded!.kind === 'skip' || item.stale || item.skippedRead) continue;
          const change = item.decoded as Change & { kind: 'change' };
          const table = change.event.source.table;
          const had = seen.get(table);
          const changed = checkColumns(ctx, seen, change);
          if (changed) return await halt(k, changed);
          await client.query('SAVEPOINT sink_event');
          try {
            const result = await this.applyChange(client, ctx, change);
            await client.query('RELEASE SAVEPOINT sink_event');
            tally(item, change, result);
          } catch (err) {
            if (!isPoison(err)) throw err;
            await client.query('ROLLBACK TO SAVEPOINT sink_event');
            // Not poison: every later value of the kind would be refused too, until the target's type is widened.
            if (isMisfit(err)) {
              if (had) seen.set(table, had);
              else seen.delete(table);
              return await halt(k, misfitError(ctx, change, err));
            }
            bury(item, err);
          }
        }
      }
      await commit(fresh, position);
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

/**
 * A partition carries its source table's changes in commit order, so a change positioned below the latest one
 * applied from it is a repeat: a source that resumes after a crash sends again what was in flight. Marks those and
 * returns the partition's new mark. Equal positions pass only for snapshot reads (all rows of one snapshot share one).
 */
function markRepeats(items: Item[], stored: bigint | null): bigint | null {
  let mark = stored;
  for (const item of items) {
    item.stale = false;
    if (item.decoded?.kind !== 'change') continue;
    const position = eventPosition(item.decoded.event);
    if (position === null) continue;
    // Only snapshot reads share a position; a streamed change at the mark itself was applied already.
    const streamed = ((position >> 64n) & 1n) === 1n;
    if (mark !== null && (position < mark || (streamed && position === mark))) item.stale = true;
    else mark = position;
  }
  return mark;
}

/** Consecutive changes of the same source table, in order; skipped, repeated and poison messages left out. */
function runsOf(items: Item[]): { table: string; items: Item[] }[] {
  const runs: { table: string; items: Item[] }[] = [];
  for (const item of items) {
    if (item.poison !== undefined || item.decoded?.kind !== 'change' || item.stale || item.skippedRead) continue;
    const table = item.decoded.event.source.table;
    const last = runs[runs.length - 1];
    if (last?.table === table) last.items.push(item);
    else runs.push({ table, items: [item] });
  }
  return runs;
}
