import type { Pool } from 'pg';

/**
 * The library monolith's schema: UUID keys everywhere, a book's tags in a child table, genres as reference data that
 * every part reads and nobody but an administrator writes.
 */
export const MONOLITH_SCHEMA = `
CREATE TABLE IF NOT EXISTS genres (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS books (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title text NOT NULL,
  author_name text NOT NULL,
  genre_id uuid NOT NULL REFERENCES genres(id),
  published_year integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS book_tags (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id uuid NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  position integer NOT NULL,
  tag text NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  full_name text NOT NULL,
  email text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS loans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id uuid NOT NULL REFERENCES books(id),
  member_id uuid NOT NULL REFERENCES members(id),
  loaned_at timestamptz NOT NULL DEFAULT now(),
  due_at timestamptz NOT NULL,
  returned_at timestamptz
);
`;

/**
 * The catalog service's own schema: the author column has another name, a book's tags live in a jsonb array on the
 * book (one table where the monolith has two), and genres is a read-only copy. No foreign keys: rows arrive by CDC
 * in any order.
 */
export const CATALOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS genres (
  id uuid PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE IF NOT EXISTS books (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title text NOT NULL,
  author text NOT NULL,
  genre_id uuid NOT NULL,
  published_year integer,
  tags jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/** The lending service keeps the monolith's shape for members and loans; the book is only an id here. */
export const LENDING_SCHEMA = `
CREATE TABLE IF NOT EXISTS members (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  full_name text NOT NULL,
  email text NOT NULL UNIQUE,
  joined_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS loans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  book_id uuid NOT NULL,
  member_id uuid NOT NULL REFERENCES members(id),
  loaned_at timestamptz NOT NULL DEFAULT now(),
  due_at timestamptz NOT NULL,
  returned_at timestamptz
);
`;

const GENRES = ['Fantasy', 'History', 'Mystery', 'Poetry', 'Science'];
const AUTHORS = ['Ada Byron', 'Bram Okafor', 'Chen Li', 'Dora Neves', 'Emil Strand', 'Farah Haddad'];
const TAGS = ['classic', 'illustrated', 'award', 'series', 'translated'];

/** A small library, once: 5 genres, 40 books with 0–3 tags, 20 members, 15 open loans. */
export async function seedMonolith(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM genres');
  if (rows[0].n > 0) return;
  const genres = (await pool.query<{ id: string }>(`INSERT INTO genres (name) SELECT unnest($1::text[]) RETURNING id`, [GENRES])).rows.map((r) => r.id);
  const books: string[] = [];
  for (let i = 0; i < 40; i++) {
    const { rows: b } = await pool.query<{ id: string }>(
      'INSERT INTO books (title, author_name, genre_id, published_year) VALUES ($1, $2, $3, $4) RETURNING id',
      [`Book ${i + 1}`, AUTHORS[i % AUTHORS.length], genres[i % genres.length], 1900 + ((i * 7) % 120)],
    );
    books.push(b[0].id);
    for (let t = 0; t < i % 4; t++) await pool.query('INSERT INTO book_tags (book_id, position, tag) VALUES ($1, $2, $3)', [b[0].id, t, TAGS[(i + t) % TAGS.length]]);
  }
  const members: string[] = [];
  for (let i = 0; i < 20; i++) {
    const { rows: m } = await pool.query<{ id: string }>('INSERT INTO members (full_name, email) VALUES ($1, $2) RETURNING id', [`Member ${i + 1}`, `member${i + 1}@library.test`]);
    members.push(m[0].id);
  }
  for (let i = 0; i < 15; i++) {
    await pool.query("INSERT INTO loans (book_id, member_id, due_at) VALUES ($1, $2, now() + interval '21 days')", [books[i], members[i % members.length]]);
  }
}
