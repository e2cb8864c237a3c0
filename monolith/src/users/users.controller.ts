import { Router } from 'express';
import { parseId } from '../../../lib/http/errors';
import { validate } from '../../../lib/http/validate';
import { createUserBody, listUsersQuery, updateUserBody } from './users.schema';
import type { UsersService } from './users.service';

export function usersController(users: UsersService): Router {
  const router = Router();
  router.post('/api/users', async (req, res) => {
    res.status(201).json(await users.create(validate(createUserBody, req.body)));
  });
  router.get('/api/users', async (req, res) => {
    res.json(await users.list(validate(listUsersQuery, req.query, 'query')));
  });
  router.get('/api/users/:id', async (req, res) => {
    res.json(await users.get(parseId(req.params.id, 'user')));
  });
  router.patch('/api/users/:id', async (req, res) => {
    const id = parseId(req.params.id, 'user');
    res.json(await users.update(id, validate(updateUserBody, req.body)));
  });
  router.delete('/api/users/:id', async (req, res) => {
    await users.remove(parseId(req.params.id, 'user'));
    res.status(204).end();
  });
  return router;
}
