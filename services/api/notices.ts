import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { notFound } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { acknowledgeNotice, listNotices } from '../store/notices.ts';
import { pageQuery, parseId, parseQuery } from './validate.ts';

/**
 * `GET /notices` (messages from tools that need an admin: an AWS SNS subscription with the URL to
 * confirm it, which Tocsin never fetches by itself) and `POST /notices/{id}/acknowledge`.
 */
export function noticesApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use(requireRole(authenticate, 'admin'));
  app.get('/', async (c) => {
    const query = parseQuery(c, {
      ...pageQuery,
      open: z.enum(['true', 'false']).default('false'),
    });
    return c.json(
      await listNotices(pool, { open: query.open === 'true' }, query.limit, query.cursor ?? null),
    );
  });
  app.post('/:id/acknowledge', async (c) => {
    const id = parseId(c.req.param('id'), 'notice');
    const notice = await acknowledgeNotice(pool, id, c.get('principal').name);
    if (!notice) throw notFound(`No notice ${id}.`);
    return c.json(notice);
  });
  return app;
}
