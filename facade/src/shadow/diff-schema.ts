import type { OwnedSchema } from '../../../lib/db/schema-migrations';

/**
 * The diff store's tables: shadow diffs and their counts, in the facade's own database. Step 1 says IF NOT EXISTS
 * because databases made before the ledger already hold these tables.
 */
export const DIFF_SCHEMA: OwnedSchema = {
  owner: 'shadow-diffs',
  schema: 'public',
  steps: [
    {
      version: 1,
      name: 'shadow diffs and counts',
      statements: [
        `CREATE TABLE IF NOT EXISTS shadow_diffs (
          id bigserial PRIMARY KEY,
          context text NOT NULL,
          route text NOT NULL,
          method text NOT NULL,
          path text NOT NULL,
          request_id text,
          monolith_status integer,
          service_status integer,
          diffs jsonb NOT NULL,
          ignored jsonb NOT NULL DEFAULT '[]',
          noise jsonb NOT NULL DEFAULT '[]',
          created_at timestamptz NOT NULL DEFAULT now()
        )`,
        'CREATE INDEX IF NOT EXISTS shadow_diffs_newest ON shadow_diffs (created_at DESC, id DESC)',
        'CREATE INDEX IF NOT EXISTS shadow_diffs_context_newest ON shadow_diffs (context, created_at DESC, id DESC)',
        `CREATE TABLE IF NOT EXISTS shadow_counts (
          context text NOT NULL,
          route text NOT NULL,
          compared bigint NOT NULL DEFAULT 0,
          matched bigint NOT NULL DEFAULT 0,
          diffs bigint NOT NULL DEFAULT 0,
          errors bigint NOT NULL DEFAULT 0,
          noise bigint NOT NULL DEFAULT 0,
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (context, route)
        )`,
      ],
    },
    // The diff store's own ledger, from before every owner shared one.
    { version: 2, name: 'drop the old shadow_schema_migrations ledger', statements: ['DROP TABLE IF EXISTS shadow_schema_migrations'] },
  ],
};
