import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { digest, requireRole, roles, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
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
import { historyRoute, timestamp } from './responses.ts';
import { pageQuery, parseId, parseJsonBody, parseQuery, recordId } from './validate.ts';
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

const user = z
  .object({
    id: recordId,
    username: z.string(),
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    roles: z.array(z.enum(roles)),
    groups: z.array(z.string()),
    active: z.boolean(),
    version: z.number().int().meta({ description: 'Bumped by every write; the `ETag`.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ title: 'User' });
const group = z
  .object({
    id: recordId,
    name: z.string(),
    description: z.string().nullable(),
    roles: z.array(z.enum(roles)),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ title: 'Group' });
const userToken = z
  .object({
    id: recordId,
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the token, to tell it.' }),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
  })
  .meta({ title: 'UserToken' });
const oneUser = {
  status: 200,
  description: 'The user.',
  schema: user,
  headers: ['ETag'],
} satisfies RouteDoc['response'];
const limitQuery = { limit: pageQuery.limit };
const tag = 'People';
const duplicate = [409, 'A user or group of this name exists.'] as const;

/** The people routes as the API document describes them; the handlers validate with these. */
export const peopleRoutes = {
  createUser: {
    method: 'post',
    path: '/api/v1/users',
    tag,
    summary: 'Create a user',
    description: 'Roles are the user’s own; their groups’ roles add to them.',
    role: 'admin',
    body: userCreate,
    response: {
      ...oneUser,
      status: 201,
      description: 'The new user.',
      headers: ['ETag', 'Location'],
    },
    errors: [duplicate, 503],
  },
  listUsers: {
    method: 'get',
    path: '/api/v1/users',
    tag,
    summary: 'List users',
    role: 'admin',
    query: limitQuery,
    response: { status: 200, description: 'The users, on one page.', schema: pageOf(user) },
    errors: [503],
  },
  readUser: {
    method: 'get',
    path: '/api/v1/users/{id}',
    tag,
    summary: 'One user',
    role: 'admin',
    response: oneUser,
    errors: [404, 503],
  },
  updateUser: {
    method: 'patch',
    path: '/api/v1/users/{id}',
    tag,
    summary: 'Edit a user',
    description: '`active: false` locks the user and their tokens out.',
    role: 'admin',
    headers: ['If-Match'],
    body: userUpdate,
    response: oneUser,
    errors: [404, 412, 503],
  },
  userHistory: historyRoute('/api/v1/users', tag, 'user', 'admin'),
  createUserToken: {
    method: 'post',
    path: '/api/v1/users/{id}/tokens',
    tag,
    summary: 'Create an API token for a user',
    description: 'The token acts with the user’s roles; it is in this answer only.',
    role: 'admin',
    body: tokenCreate,
    response: {
      status: 201,
      description: 'The token record and the token itself.',
      schema: userToken.extend({ token: z.string() }),
      headers: ['Cache-Control'],
    },
    errors: [404, 503],
  },
  listUserTokens: {
    method: 'get',
    path: '/api/v1/users/{id}/tokens',
    tag,
    summary: 'A user’s API tokens',
    description: 'Never the tokens themselves.',
    role: 'admin',
    response: { status: 200, description: 'The tokens, on one page.', schema: pageOf(userToken) },
    errors: [404, 503],
  },
  revokeUserToken: {
    method: 'delete',
    path: '/api/v1/users/{id}/tokens/{tokenId}',
    tag,
    summary: 'Revoke a user’s API token',
    description: 'Takes effect within five seconds.',
    role: 'admin',
    response: { status: 200, description: 'The revoked token.', schema: userToken },
    errors: [404, 503],
  },
  createGroup: {
    method: 'post',
    path: '/api/v1/groups',
    tag,
    summary: 'Create a group',
    role: 'admin',
    body: groupCreate,
    response: {
      status: 201,
      description: 'The new group.',
      schema: group,
      headers: ['Location'],
    },
    errors: [duplicate, 503],
  },
  listGroups: {
    method: 'get',
    path: '/api/v1/groups',
    tag,
    summary: 'List groups',
    role: 'admin',
    query: limitQuery,
    response: { status: 200, description: 'The groups, on one page.', schema: pageOf(group) },
    errors: [503],
  },
} satisfies Record<string, RouteDoc>;

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

  app.post('/users', async (c) => {
    const body = await parseJsonBody(c, peopleRoutes.createUser.body);
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
    const query = parseQuery(c, peopleRoutes.listUsers.query);
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
    const body = await parseJsonBody(c, peopleRoutes.updateUser.body);
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
    const query = parseQuery(c, peopleRoutes.userHistory.query);
    if (!(await getUser(pool, id))) throw notFound(`No user ${id}.`);
    return c.json(await listAudit(pool, 'user', id, query.limit, query.cursor ?? null));
  });
  app.post('/users/:id/tokens', async (c) => {
    const id = parseId(c.req.param('id'), 'user');
    const body = await parseJsonBody(c, peopleRoutes.createUserToken.body);
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
    const body = await parseJsonBody(c, peopleRoutes.createGroup.body);
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
    const query = parseQuery(c, peopleRoutes.listGroups.query);
    return c.json({ items: await listGroups(pool, query.limit), nextCursor: null });
  });
  return app;
}
