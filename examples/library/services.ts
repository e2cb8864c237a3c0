import type { Express } from 'express';
import type { Pool } from 'pg';
import { mountCatalog, type BookStore } from './catalog-routes';
import { createApp } from './http';
import { mountLending } from './lending-routes';

/** The catalog service's books: `author`, tags as a jsonb array of `{tag}` on the book itself. */
const books: BookStore = {
  select: `SELECT b.id, b.title, b.author, b.genre_id, b.published_year, b.created_at, b.updated_at,
                  ARRAY(SELECT e.v->>'tag' FROM jsonb_array_elements(b.tags) WITH ORDINALITY e(v, n) ORDER BY e.n) AS tags
             FROM books b`,
  async insert(db, b) {
    const tags = JSON.stringify(b.tags.map((tag) => ({ tag })));
    const { rows } = await db.query<{ id: string }>('INSERT INTO books (title, author, genre_id, published_year, tags) VALUES ($1, $2, $3, $4, $5) RETURNING id', [b.title, b.author, b.genreId, b.publishedYear, tags]);
    return rows[0].id;
  },
  async update(db, id, c) {
    const { rowCount } = await db.query('UPDATE books SET title = COALESCE($2, title), author = COALESCE($3, author), updated_at = now() WHERE id = $1', [id, c.title ?? null, c.author ?? null]);
    return rowCount === 1;
  },
};

/** The extracted catalog: books and the genres it reads (a copy kept by the toolkit). */
export function createCatalogService(pool: Pool): Express {
  return createApp(pool, (app) => mountCatalog(app, pool, books));
}

/** The extracted lending: members and loans. */
export function createLendingService(pool: Pool): Express {
  return createApp(pool, (app) => mountLending(app, pool, { booksInThisDatabase: false }));
}
