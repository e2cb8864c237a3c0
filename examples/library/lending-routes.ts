import type { Express } from 'express';
import type { Pool, PoolClient } from 'pg';
import { ApiError, bodyOf, inTransaction, iso, notFound, route, text, uuidField, uuidParam } from './http';

/**
 * Members and loans: the same code in the monolith and in the lending service (the service began as a copy). Only
 * the monolith can check that a book exists in its own database; the service takes the book id as given.
 */
interface LoanRow {
  id: string;
  book_id: string;
  member_id: string;
  loaned_at: Date;
  due_at: Date;
  returned_at: Date | null;
}

const loanJson = (r: LoanRow) => ({ id: r.id, bookId: r.book_id, memberId: r.member_id, loanedAt: iso(r.loaned_at), dueAt: iso(r.due_at), returnedAt: iso(r.returned_at) });
const memberJson = (r: { id: string; full_name: string; email: string; joined_at: Date }) => ({ id: r.id, fullName: r.full_name, email: r.email, joinedAt: iso(r.joined_at) });

async function loan(db: Pool | PoolClient, id: string): Promise<LoanRow> {
  const { rows } = await db.query<LoanRow>('SELECT * FROM loans WHERE id = $1', [id]);
  if (!rows[0]) throw notFound('loan');
  return rows[0];
}

export function mountLending(app: Express, pool: Pool, options: { booksInThisDatabase: boolean }): void {
  app.post('/api/members', route(async (req, res) => {
    const body = bodyOf(req);
    const fullName = text(body, 'fullName')!;
    const email = text(body, 'email')!;
    if (!email.includes('@')) throw new ApiError(400, 'validation_failed', 'email must be an email address');
    const row = await inTransaction(pool, req, async (db) => {
      const taken = await db.query('SELECT 1 FROM members WHERE lower(email) = lower($1)', [email]);
      if (taken.rowCount) throw new ApiError(409, 'email_taken', 'a member has this email');
      return (await db.query('INSERT INTO members (full_name, email) VALUES ($1, $2) RETURNING *', [fullName, email])).rows[0];
    });
    res.status(201).json(memberJson(row));
  }));
  app.get('/api/members/:id', route(async (req, res) => {
    const { rows } = await pool.query('SELECT * FROM members WHERE id = $1', [uuidParam(req, 'member')]);
    if (!rows[0]) throw notFound('member');
    res.json(memberJson(rows[0]));
  }));
  app.get('/api/members/:id/loans', route(async (req, res) => {
    const { rows } = await pool.query<LoanRow>('SELECT * FROM loans WHERE member_id = $1 ORDER BY loaned_at DESC, id', [uuidParam(req, 'member')]);
    res.json({ items: rows.map(loanJson) });
  }));
  app.post('/api/loans', route(async (req, res) => {
    const body = bodyOf(req);
    const bookId = uuidField(body, 'bookId');
    const memberId = uuidField(body, 'memberId');
    const row = await inTransaction(pool, req, async (db) => {
      if (!(await db.query('SELECT 1 FROM members WHERE id = $1', [memberId])).rowCount) throw new ApiError(422, 'unknown_member', 'no such member');
      if (options.booksInThisDatabase && !(await db.query('SELECT 1 FROM books WHERE id = $1', [bookId])).rowCount) throw new ApiError(422, 'unknown_book', 'no such book');
      return (await db.query<LoanRow>("INSERT INTO loans (book_id, member_id, due_at) VALUES ($1, $2, now() + interval '21 days') RETURNING *", [bookId, memberId])).rows[0];
    });
    res.status(201).json(loanJson(row));
  }));
  app.get('/api/loans/:id', route(async (req, res) => {
    res.json(loanJson(await loan(pool, uuidParam(req, 'loan'))));
  }));
  app.post('/api/loans/:id/return', route(async (req, res) => {
    const id = uuidParam(req, 'loan');
    const row = await inTransaction(pool, req, async (db) => {
      const current = await loan(db, id);
      if (current.returned_at) throw new ApiError(409, 'already_returned', 'the loan was returned already');
      return (await db.query<LoanRow>('UPDATE loans SET returned_at = now() WHERE id = $1 RETURNING *', [id])).rows[0];
    });
    res.json(loanJson(row));
  }));
}
