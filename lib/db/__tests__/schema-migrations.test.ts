import type { Pool } from 'pg';
import { createPool } from '../pool';
import { createTestDatabase, type TestDatabase } from '../../../test/harness/database';
import { migrateOwnedSchema, SchemaTooNewError, type OwnedSchema } from '../schema-migrations';

const v1: OwnedSchema = {
  owner: 'sample',
  schema: 'toolkit_test',
  steps: [{ version: 1, name: 'things', statements: ['CREATE TABLE toolkit_test.things (id int PRIMARY KEY)'] }],
};
const v2: OwnedSchema = {
  ...v1,
  steps: [...v1.steps, { version: 2, name: 'things get a label', statements: ['ALTER TABLE toolkit_test.things ADD COLUMN label text'] }],
};

describe("the toolkit's own schema migrations", () => {
  let db: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ connectionString: db.url, max: 8 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('applies each step once, even when several processes start together, and records it per owner', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => migrateOwnedSchema(pool, v1)));
    expect(runs.flat()).toEqual([1]);
    expect(await migrateOwnedSchema(pool, v2)).toEqual([2]);
    await pool.query("INSERT INTO toolkit_test.things (id, label) VALUES (1, 'one')");

    // Another owner in the same schema has its own versions.
    const other: OwnedSchema = { owner: 'other', schema: 'toolkit_test', steps: [{ version: 1, name: 'other', statements: ['CREATE TABLE toolkit_test.others (id int)'] }] };
    expect(await migrateOwnedSchema(pool, other)).toEqual([1]);
    const { rows } = await pool.query('SELECT owner, version, name FROM toolkit_test.strangler_schema_migrations ORDER BY owner, version');
    expect(rows).toEqual([
      { owner: 'other', version: 1, name: 'other' },
      { owner: 'sample', version: 1, name: 'things' },
      { owner: 'sample', version: 2, name: 'things get a label' },
    ]);
  });

  it('leaves nothing half-made when a step fails', async () => {
    const broken: OwnedSchema = {
      ...v2,
      steps: [...v2.steps, { version: 3, name: 'broken', statements: ['CREATE TABLE toolkit_test.half (id int)', 'SELECT no_such_function()'] }],
    };
    await expect(migrateOwnedSchema(pool, broken)).rejects.toThrow(/no_such_function/);
    const { rows } = await pool.query("SELECT to_regclass('toolkit_test.half') AS half, (SELECT max(version) FROM toolkit_test.strangler_schema_migrations WHERE owner = 'sample') AS v");
    expect(rows[0]).toEqual({ half: null, v: 2 });
  });

  it('refuses an older build against a database a newer one migrated, naming the owner and both versions', async () => {
    const err = await migrateOwnedSchema(pool, v1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as Error).message).toMatch(/^sample: the database's schema is at version 2, but this build knows only up to 1/);
  });

  it('refuses steps numbered out of order before touching the database', async () => {
    const gap: OwnedSchema = { owner: 'gap', schema: 'toolkit_gap', steps: [{ version: 2, name: 'x', statements: [] }] };
    await expect(migrateOwnedSchema(pool, gap)).rejects.toThrow('gap: schema step 1 is numbered 2');
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'toolkit_gap'");
    expect(rows[0].n).toBe(0);
  });
});
