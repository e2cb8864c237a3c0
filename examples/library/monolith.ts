import type { Express } from 'express';
import type { Pool } from 'pg';
import { mountCatalog, type BookStore } from './catalog-routes';
import { createApp } from './http';
import { mountLending } from './lending-routes';

/** The monolith's books: `author_name`, tags as rows of `book_tags` (position 0, 1, …). */
const books: BookStore = {
  select: `SELECT b.id, b.title, b.author_name AS author, b.genre_id, b.published_year, b.created_at, b.updated_at,
                  COALESCE((SELECT array_agg(t.tag ORDER BY t.position) FROM book_tags t WHERE t.book_id = b.id), '{}') AS tags
             FROM books b`,
  async insert(db, b) {
    const { rows } = await db.query<{ id: string }>('INSERT INTO books (title, author_name, genre_id, published_year) VALUES ($1, $2, $3, $4) RETURNING id', [b.title, b.author, b.genreId, b.publishedYear]);
    for (const [i, tag] of b.tags.entries()) await db.query('INSERT INTO book_tags (book_id, position, tag) VALUES ($1, $2, $3)', [rows[0].id, i, tag]);
    return rows[0].id;
  },
  async update(db, id, c) {
    const { rowCount } = await db.query('UPDATE books SET title = COALESCE($2, title), author_name = COALESCE($3, author_name), updated_at = now() WHERE id = $1', [id, c.title ?? null, c.author ?? null]);
    return rowCount === 1;
  },
};

/** The whole library in one app and one database: catalog and lending together. */
export function createLibraryMonolith(pool: Pool): Express {
  return createApp(pool, (app) => {
    mountCatalog(app, pool, books);
    mountLending(app, pool, { booksInThisDatabase: true });
  });
}
