import type { PoolClient } from 'pg';

/**
 * Planner statistics for tables a sink fills faster than autovacuum looks at them (a snapshot into an empty service
 * table, the sink's own bookkeeping). Without them a bulk statement's plan can degrade to a scan per row. ANALYZE runs
 * after 1k rows written, then each time the count doubles (at most every million rows): a handful of runs in all.
 */
export class StatisticsKeeper {
  private written = 0;
  private next = 1_000;

  constructor(private readonly tables: string[]) {}

  async afterCommit(client: PoolClient, rows: number): Promise<void> {
    this.written += rows;
    if (this.written < this.next) return;
    this.next = Math.min(this.written * 2, this.written + 1_000_000);
    // Best effort: a table we may not analyze (not its owner) only yields a warning, and stale statistics are no error.
    await client.query(`ANALYZE ${this.tables.join(', ')}`).catch(() => undefined);
  }
}
