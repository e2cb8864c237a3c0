import { Pool } from 'pg';
import { createShop, query, type Shop } from '../../sink/__tests__/fixtures';
import { IdRangeError } from '../errors';
import { assignDisjointIdRange, checkIdRanges, DEFAULT_ID_BOUNDARY } from '../id-ranges';

describe('disjoint id ranges', () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await createShop();
  });
  afterAll(async () => {
    await shop.drop();
  });

  async function insertUsers(pool: Pool, nameColumn: string, prefix: string, n: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const { rows } = await pool.query<{ id: number }>(`INSERT INTO users (email, ${nameColumn}) VALUES ($1, $2) RETURNING id`, [`${prefix}${i}@example.com`, `${prefix} ${i}`]);
      ids.push(rows[0].id);
    }
    return ids;
  }

  it('reports the problem before any range is assigned', async () => {
    await query(shop.monolith.url, "INSERT INTO users (email, name) SELECT 'seed' || g || '@example.com', 'Seed ' || g FROM generate_series(1, 50) g");
    const report = await checkIdRanges(shop.forward);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/can reach the service's range/);
    expect(report.problems.join('\n')).toMatch(/service sequence .* below the boundary/);
  });

  it('gives the service a range of its own, so concurrent inserts on both sides never collide', async () => {
    const assigned = await assignDisjointIdRange(shop.forward);
    expect(assigned).toMatchObject({ ok: true, boundary: DEFAULT_ID_BOUNDARY, problems: [] });
    const users = assigned.tables.find((t) => t.monolithTable === 'users')!;
    expect(users.monolith).toMatchObject({ lastValue: 50, max: DEFAULT_ID_BOUNDARY - 1 });
    expect(users.service).toMatchObject({ next: DEFAULT_ID_BOUNDARY });
    // Running it again changes nothing.
    expect((await assignDisjointIdRange(shop.forward)).tables).toEqual(assigned.tables);

    const monolith = new Pool({ connectionString: shop.monolith.url, max: 4 });
    const service = new Pool({ connectionString: shop.service.url, max: 4 });
    try {
      const [m1, m2, s1, s2] = await Promise.all([
        insertUsers(monolith, 'name', 'mono-a', 100),
        insertUsers(monolith, 'name', 'mono-b', 100),
        insertUsers(service, 'full_name', 'svc-a', 100),
        insertUsers(service, 'full_name', 'svc-b', 100),
      ]);
      const monoIds = [...m1, ...m2];
      const svcIds = [...s1, ...s2];
      expect(Math.max(...monoIds)).toBeLessThan(DEFAULT_ID_BOUNDARY);
      expect(Math.min(...svcIds)).toBeGreaterThanOrEqual(DEFAULT_ID_BOUNDARY);

      // What the two pipelines do: copy each side's rows to the other with their ids. No primary key collides.
      await monolith.query(
        `INSERT INTO users (id, email, name) SELECT unnest($1::int[]), unnest($2::text[]), unnest($2::text[])`,
        [svcIds, svcIds.map((id) => `copied-${id}@example.com`)],
      );
      await service.query(
        `INSERT INTO users (id, email, full_name) SELECT unnest($1::int[]), unnest($2::text[]), unnest($2::text[])`,
        [monoIds, monoIds.map((id) => `copied-${id}@example.com`)],
      );
      const [{ n: monoCount }] = await query<{ n: number }>(shop.monolith.url, 'SELECT count(*)::int AS n FROM users');
      expect(monoCount).toBe(50 + 200 + 200);
    } finally {
      await Promise.all([monolith.end(), service.end()]);
    }
    // Copied rows sit behind the other side's sequence, so the ranges still hold.
    expect(await checkIdRanges(shop.forward)).toMatchObject({ ok: true });
    expect(await checkIdRanges(shop.reverse)).toMatchObject({ ok: true });
  });

  it('stays green while the monolith takes inserts during the check (as it does under load at extraction)', async () => {
    const monolith = new Pool({ connectionString: shop.monolith.url, max: 4 });
    let writing = true;
    const writers = [0, 1, 2].map(async (w) => {
      let inserted = 0;
      while (writing) inserted += (await insertUsers(monolith, 'name', `race-${w}-${inserted}-`, 1)).length;
      return inserted;
    });
    const failures: string[] = [];
    try {
      for (let round = 0; round < 40; round++) {
        const report = round % 2 ? await checkIdRanges(shop.forward) : await assignDisjointIdRange(shop.forward);
        failures.push(...report.problems);
      }
    } finally {
      writing = false;
      const counts = await Promise.all(writers);
      await monolith.end();
      // The race needs inserts to land during the checks, or this test proves nothing.
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(40);
    }
    expect(failures).toEqual([]);
  });

  it('refuses with a reason, instead of queueing writers, when a long transaction holds the table', async () => {
    const { Client } = await import('pg');
    const holder = new Client({ connectionString: shop.monolith.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("INSERT INTO users (email, name) VALUES ('long-tx@example.com', 'Long')");
      await expect(assignDisjointIdRange(shop.forward, { lockTimeoutMs: 200 })).rejects.toThrow(/could not lock users\b.* within 200 ms/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // Once the transaction is gone, assigning works again.
    expect(await assignDisjointIdRange(shop.forward)).toMatchObject({ ok: true });
  });

  it('catches a service sequence moved back into the monolith range, and refuses a boundary the monolith passed', async () => {
    await query(shop.service.url, "SELECT setval('users_id_seq', 10)");
    const report = await checkIdRanges(shop.forward);
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => /users_id_seq hands out 11 next, below the boundary/.test(p))).toBe(true);

    await expect(assignDisjointIdRange(shop.forward, { boundary: 20 })).rejects.toThrow(IdRangeError);
  });
});
