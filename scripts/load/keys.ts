import { Client } from 'pg';
import { quoteIdent } from '../../migrations/cdc/mapping/catalog';
import type { CatalogTable, KeyRef } from './workload';

/** Real keys from the monolith's database, so reads hit rows that exist instead of a stream of 404s. */
export class MonolithKeys {
  private constructor(private readonly db: Client) {}

  static async open(url: string): Promise<MonolithKeys> {
    const db = new Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'strangler-load' });
    db.on('error', () => undefined);
    await db.connect();
    return new MonolithKeys(db);
  }

  async tables(): Promise<CatalogTable[]> {
    const { rows } = await this.db.query<{ name: string; pk: string[] | null }>(
      `SELECT c.relname AS name,
              (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname`,
    );
    return rows.map((r) => ({ name: r.name, primaryKey: r.pk ?? [] }));
  }

  /** Up to `limit` values, random on small tables, a block sample on big ones (ORDER BY random() reads everything). */
  async sample(ref: KeyRef, limit = 500): Promise<unknown[]> {
    const { rows: est } = await this.db.query<{ n: number }>(
      `SELECT reltuples::float8 AS n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = 'public' AND c.relname = $1`,
      [ref.table],
    );
    const big = (est[0]?.n ?? 0) > 100_000;
    const col = quoteIdent(ref.column);
    const from = `${quoteIdent(ref.table)}${big ? ' TABLESAMPLE SYSTEM (1)' : ''}`;
    const { rows } = await this.db.query<{ v: unknown }>(`SELECT ${col} AS v FROM ${from} WHERE ${col} IS NOT NULL ${big ? '' : 'ORDER BY random()'} LIMIT ${limit}`);
    return rows.map((r) => r.v);
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => undefined);
  }
}
