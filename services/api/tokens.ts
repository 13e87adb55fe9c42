import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { digest, requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { insertToken, listTokens, revokeToken } from '../store/tokens.ts';
import { timestamp } from './responses.ts';
import { parseId, parseJsonBody, parseQuery, recordId } from './validate.ts';

const createSchema = (sources: readonly string[]) =>
  z.strictObject({
    name: z.string().trim().min(1).max(255),
    source: z.enum(sources as [string, ...string[]]),
    /** Whether deliveries must be signed (HMAC-SHA256); the secret is returned once. */
    signed: z.boolean().default(false),
  });

const tokenRecord = (sources: readonly string[]) =>
  z
    .object({
      id: recordId,
      name: z.string(),
      source: z.enum(sources as [string, ...string[]]),
      prefix: z.string().meta({ description: 'The first characters of the token, to tell it.' }),
      signed: z.boolean(),
      createdBy: z.string(),
      createdAt: timestamp,
      revokedAt: timestamp.nullable(),
      lastUsedAt: timestamp.nullable(),
    })
    .meta({ title: 'IngestToken' });

/** The ingest token routes as the API document describes them; the handlers validate with these. */
export function tokenRoutes(sources: readonly string[]) {
  const token = tokenRecord(sources);
  const tag = 'Ingest tokens';
  return {
    create: {
      method: 'post',
      path: '/api/v1/tokens',
      tag,
      summary: 'Create an ingest token bound to one source',
      description:
        'The token, and its signing secret when `signed`, are in this answer only; Tocsin keeps their hashes.',
      role: 'admin',
      body: createSchema(sources),
      response: {
        status: 201,
        description: 'The token record, the token, and the secret of a signing token.',
        schema: token.extend({ token: z.string(), hmacSecret: z.string().optional() }),
        headers: ['Location', 'Cache-Control'],
      },
      errors: [503],
    },
    list: {
      method: 'get',
      path: '/api/v1/tokens',
      tag,
      summary: 'List ingest tokens',
      description: 'With their prefix and last use; never the tokens themselves.',
      role: 'admin',
      query: {
        limit: z
          .string()
          .regex(/^\d+$/, 'must be a whole number')
          .transform(Number)
          .pipe(z.number().int().min(1).max(1000))
          .default(1000)
          .meta({ description: 'Most tokens to list, 1–1000 (default 1000).' }),
      },
      response: { status: 200, description: 'The tokens, on one page.', schema: pageOf(token) },
      errors: [503],
    },
    revoke: {
      method: 'delete',
      path: '/api/v1/tokens/{id}',
      tag,
      summary: 'Revoke an ingest token',
      description: 'Takes effect within five seconds.',
      role: 'admin',
      response: { status: 200, description: 'The revoked token.', schema: token },
      errors: [404, 503],
    },
  } satisfies Record<string, RouteDoc>;
}

/**
 * `POST /tokens` (create an ingest token bound to one source: the token, and its signing secret,
 * are in this answer only), `GET /tokens`, `DELETE /tokens/{id}` (revoke). Admins only.
 */
export function tokensApi(
  pool: Pool,
  authenticate: Authenticate,
  sources: readonly string[],
): Hono<AuthEnv> {
  const routes = tokenRoutes(sources);
  const app = new Hono<AuthEnv>();
  app.use(requireRole(authenticate, 'admin'));
  app.post('/', async (c) => {
    const body = await parseJsonBody(c, routes.create.body);
    const token = `tsn_${randomBytes(32).toString('base64url')}`;
    const hmacSecret = body.signed ? `tss_${randomBytes(32).toString('base64url')}` : null;
    const record = await insertToken(pool, {
      name: body.name,
      source: body.source,
      hash: digest(token),
      prefix: token.slice(0, 10),
      hmacSecret,
      createdBy: c.get('principal').name,
    });
    c.header('Location', `/api/v1/tokens/${record.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...record, token, ...(hmacSecret ? { hmacSecret } : {}) }, 201);
  });
  app.get('/', async (c) => {
    const query = parseQuery(c, routes.list.query);
    return c.json({ items: await listTokens(pool, query.limit), nextCursor: null });
  });
  app.delete('/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'token');
    const record = await revokeToken(pool, id);
    if (!record) throw notFound(`No token ${id}.`);
    return c.json(record);
  });
  return app;
}
