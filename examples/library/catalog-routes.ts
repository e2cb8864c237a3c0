import type { Express } from 'express';
import type { Pool, PoolClient } from 'pg';
import { ApiError, bodyOf, inTransaction, iso, notFound, route, text, uuidField, uuidParam } from './http';

/**
 * Books and genres. The monolith and the catalog service answer the same JSON from different schemas: the monolith
 * reads `author_name` and a `book_tags` child table, the service `author` and a jsonb `tags` array on the book.
 */
export interface BookStore {
  /** SQL selecting every book column as the API names them, plus `tags` as a text[] (`WHERE` appended). */
  select: string;
  insert(db: PoolClient, book: { title: string; author: string; genreId: string; publishedYear: number | null; tags: string[] }): Promise<string>;
  update(db: PoolClient, id: string, changes: { title?: string; author?: string }): Promise<boolean>;
}

interface BookRow {
  id: string;
  title: string;
  author: string;
  genre_id: string;
  published_year: number | null;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

const bookJson = (r: BookRow) => ({
  id: r.id,
  title: r.title,
  author: r.author,
  genreId: r.genre_id,
  publishedYear: r.published_year,
  tags: r.tags,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

async function book(db: Pool | PoolClient, store: BookStore, id: string): Promise<BookRow> {
  const { rows } = await db.query<BookRow>(`${store.select} WHERE b.id = $1`, [id]);
  if (!rows[0]) throw notFound('book');
  return rows[0];
}

function tagsOf(body: Record<string, unknown>): string[] {
  const tags = body.tags ?? [];
  if (!Array.isArray(tags) || tags.length > 10 || !tags.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 50)) {
    throw new ApiError(400, 'validation_failed', 'tags must be at most 10 non-empty strings');
  }
  return tags as string[];
}

export function mountCatalog(app: Express, pool: Pool, store: BookStore): void {
  app.get('/api/genres', route(async (_req, res) => {
    res.json({ items: (await pool.query('SELECT id, name FROM genres ORDER BY name')).rows });
  }));
  app.get('/api/books', route(async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 20) || 20, 1), 100);
    const { rows } = await pool.query<BookRow>(`${store.select} ORDER BY b.title, b.id LIMIT $1`, [limit]);
    res.json({ items: rows.map(bookJson) });
  }));
  app.get('/api/books/:id', route(async (req, res) => {
    res.json(bookJson(await book(pool, store, uuidParam(req, 'book'))));
  }));
  app.post('/api/books', route(async (req, res) => {
    const body = bodyOf(req);
    const input = { title: text(body, 'title')!, author: text(body, 'author')!, genreId: uuidField(body, 'genreId'), publishedYear: null as number | null, tags: tagsOf(body) };
    if (body.publishedYear !== undefined) {
      if (!Number.isInteger(body.publishedYear)) throw new ApiError(400, 'validation_failed', 'publishedYear must be an integer');
      input.publishedYear = body.publishedYear as number;
    }
    const row = await inTransaction(pool, req, async (db) => {
      if (!(await db.query('SELECT 1 FROM genres WHERE id = $1', [input.genreId])).rowCount) throw new ApiError(422, 'unknown_genre', 'no such genre');
      return book(db, store, await store.insert(db, input));
    });
    res.status(201).json(bookJson(row));
  }));
  app.patch('/api/books/:id', route(async (req, res) => {
    const id = uuidParam(req, 'book');
    const body = bodyOf(req);
    const changes = { title: text(body, 'title', true), author: text(body, 'author', true) };
    const row = await inTransaction(pool, req, async (db) => {
      if (!(await store.update(db, id, changes))) throw notFound('book');
      return book(db, store, id);
    });
    res.json(bookJson(row));
  }));
}
