import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { digest, requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { notFound } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { insertToken, listTokens, revokeToken } from '../store/tokens.ts';
import { parseId, parseJsonBody, parseQuery } from './validate.ts';

const createSchema = (sources: readonly string[]) =>
  z.strictObject({
    name: z.string().trim().min(1).max(255),
    source: z.enum(sources as [string, ...string[]]),
    /** Whether deliveries must be signed (HMAC-SHA256); the secret is returned once. */
    signed: z.boolean().default(false),
  });

/**
 * `POST /tokens` (create an ingest token bound to one source: the token, and its signing secret,
 * are in this answer only), `GET /tokens`, `DELETE /tokens/{id}` (revoke). Admins only.
 */
export function tokensApi(
  pool: Pool,
  authenticate: Authenticate,
  sources: readonly string[],
): Hono<AuthEnv> {
  const schema = createSchema(sources);
  const app = new Hono<AuthEnv>();
  app.use(requireRole(authenticate, 'admin'));
  app.post('/', async (c) => {
    const body = await parseJsonBody(c, schema);
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
    const query = parseQuery(c, {
      limit: z
        .string()
        .regex(/^\d+$/, 'must be a whole number')
        .transform(Number)
        .pipe(z.number().int().min(1).max(1000))
        .default(1000),
    });
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
