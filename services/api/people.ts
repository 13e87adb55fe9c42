import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { digest, requireRole, roles, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { invalid, notFound } from '../../runtime/problem.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import {
  getUser,
  insertGroup,
  insertUser,
  insertUserToken,
  listGroups,
  listUserTokens,
  listUsers,
  revokeUserToken,
  unknownGroups,
  updateUser,
} from '../store/people.ts';
import { listAudit, setActor } from '../store/tickets.ts';
import { pageQuery, parseId, parseJsonBody, parseQuery } from './validate.ts';
import { checkIfMatch, etagOf } from './tickets.ts';

const name = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ - (max 128)');
// People hold the roles that people use; `ingest` belongs to ingest tokens only.
const personRoles = z.array(z.enum(roles).exclude(['ingest'])).max(roles.length);

const userCreate = z.strictObject({
  username: name,
  displayName: z.string().trim().min(1).max(255).nullish(),
  email: z.email().max(320).nullish(),
  roles: personRoles.default([]),
  groups: z.array(name).max(100).default([]),
});
const userUpdate = z
  .strictObject({
    displayName: z.string().trim().min(1).max(255).nullable().optional(),
    email: z.email().max(320).nullable().optional(),
    roles: personRoles.optional(),
    groups: z.array(name).max(100).optional(),
    active: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'change at least one field');
const groupCreate = z.strictObject({
  name,
  description: z.string().max(4096).nullish(),
  roles: personRoles.default([]),
});
const tokenCreate = z.strictObject({ name: z.string().trim().min(1).max(255) });

async function checkGroups(pool: Pool, groups: string[] | undefined): Promise<void> {
  const unknown = await unknownGroups(pool, groups ?? []);
  if (unknown.length > 0)
    throw invalid([{ pointer: '/groups', detail: `no group named "${unknown.join('", "')}"` }]);
}

/**
 * People and rights, admins only: `/users` (create, list, read, PATCH with If-Match, history),
 * `/users/{id}/tokens` (a person's API tokens, shown once, revocable) and `/groups`.
 */
export function peopleApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  // Mounted on /api/v1 itself: the guard covers these paths only, not the whole prefix.
  const admin = requireRole(authenticate, 'admin');
  for (const path of ['/users', '/users/*', '/groups', '/groups/*']) app.use(path, admin);
  const limitQuery = { limit: pageQuery.limit };

  app.post('/users', async (c) => {
    const body = await parseJsonBody(c, userCreate);
    await checkGroups(pool, body.groups);
    const user = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'create');
      return insertUser(tx, {
        username: body.username,
        displayName: body.displayName ?? null,
        email: body.email ?? null,
        roles: body.roles,
        groups: body.groups,
      });
    });
    c.header('Location', `/api/v1/users/${user.id}`);
    c.header('ETag', etagOf(user.version));
    return c.json(user, 201);
  });
  app.get('/users', async (c) => {
    const query = parseQuery(c, limitQuery);
    return c.json({ items: await listUsers(pool, query.limit), nextCursor: null });
  });
  app.get('/users/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const user = await getUser(pool, id);
    if (!user) throw notFound(`No user ${id}.`);
    c.header('ETag', etagOf(user.version));
    return c.json(user);
  });
  app.patch('/users/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const body = await parseJsonBody(c, userUpdate);
    await checkGroups(pool, body.groups);
    const user = await withTransaction(pool, async (tx) => {
      const current = await getUser(tx, id, true);
      if (!current) throw notFound(`No user ${id}.`);
      checkIfMatch(c, current.version);
      await setActor(tx, c.get('principal').name);
      return updateUser(tx, id, body);
    });
    c.header('ETag', etagOf(user.version));
    return c.json(user);
  });
  app.get('/users/:id/history', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const query = parseQuery(c, pageQuery);
    if (!(await getUser(pool, id))) throw notFound(`No user ${id}.`);
    return c.json(await listAudit(pool, 'user', id, query.limit, query.cursor ?? null));
  });
  app.post('/users/:id/tokens', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const body = await parseJsonBody(c, tokenCreate);
    if (!(await getUser(pool, id))) throw notFound(`No user ${id}.`);
    const token = `tsu_${randomBytes(32).toString('base64url')}`;
    const record = await insertUserToken(pool, id, {
      name: body.name,
      hash: digest(token),
      prefix: token.slice(0, 10),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ ...record, token }, 201);
  });
  app.get('/users/:id/tokens', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    if (!(await getUser(pool, id))) throw notFound(`No user ${id}.`);
    return c.json({ items: await listUserTokens(pool, id), nextCursor: null });
  });
  app.delete('/users/:id/tokens/:tokenId', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const tokenId = parseId(c.req.param('tokenId'), 'token');
    const record = await revokeUserToken(pool, id, tokenId);
    if (!record) throw notFound(`No token ${tokenId} of user ${id}.`);
    return c.json(record);
  });
  app.post('/groups', async (c) => {
    const body = await parseJsonBody(c, groupCreate);
    const group = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'create');
      return insertGroup(tx, {
        name: body.name,
        description: body.description ?? null,
        roles: body.roles,
      });
    });
    c.header('Location', `/api/v1/groups/${group.id}`);
    return c.json(group, 201);
  });
  app.get('/groups', async (c) => {
    const query = parseQuery(c, limitQuery);
    return c.json({ items: await listGroups(pool, query.limit), nextCursor: null });
  });
  return app;
}
