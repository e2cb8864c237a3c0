import { Router, type Request } from 'express';
import { isDryRun, propagatedHeaders } from '../../../../lib/http/dry-run';
import { parseId } from '../../../../lib/http/errors';
import { validate } from '../../../../lib/http/validate';
import { createUserBody, listUsersQuery, updateUserBody } from './users.schema';
import type { UsersService, WriteContext } from './users.service';

const writeContext = (req: Request): WriteContext => ({ dryRun: isDryRun(req), forwardHeaders: propagatedHeaders(req) });

export function usersController(users: UsersService): Router {
  const router = Router();
  router.post('/api/users', async (req, res) => {
    res.status(201).json(await users.create(validate(createUserBody, req.body), writeContext(req)));
  });
  router.get('/api/users', async (req, res) => {
    res.json(await users.list(validate(listUsersQuery, req.query, 'query')));
  });
  router.get('/api/users/:id', async (req, res) => {
    res.json(await users.get(parseId(req.params.id, 'user')));
  });
  router.patch('/api/users/:id', async (req, res) => {
    const id = parseId(req.params.id, 'user');
    res.json(await users.update(id, validate(updateUserBody, req.body), writeContext(req)));
  });
  router.delete('/api/users/:id', async (req, res) => {
    await users.remove(parseId(req.params.id, 'user'), writeContext(req));
    res.status(204).end();
  });
  return router;
}
