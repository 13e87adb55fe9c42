import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { acknowledgeNotice, listNotices } from '../store/notices.ts';
import { timestamp } from './responses.ts';
import { pageQuery, parseId, parseQuery, recordId } from './validate.ts';

const notice = z
  .object({
    id: recordId,
    deliveryId: recordId,
    source: z.string(),
    kind: z.string().meta({ description: '`sns-subscription`: a subscription URL to confirm.' }),
    summary: z.string(),
    details: z.record(z.string(), z.string()),
    receivedAt: timestamp,
    acknowledgedAt: timestamp.nullable(),
    acknowledgedBy: z.string().nullable(),
  })
  .meta({ title: 'Notice' });

/** The notice routes as the API document describes them; the handlers validate with these. */
export const noticeRoutes = {
  list: {
    method: 'get',
    path: '/api/v1/notices',
    tag: 'Notices',
    summary: 'Messages from tools that need an admin',
    description:
      'An AWS SNS subscription, say, with the URL to confirm it: Tocsin never fetches it by itself.',
    role: 'admin',
    query: {
      ...pageQuery,
      open: z
        .enum(['true', 'false'])
        .default('false')
        .meta({ description: '`true`: only those not yet acknowledged.' }),
    },
    response: {
      status: 200,
      description: 'A page of notices, newest first.',
      schema: pageOf(notice),
    },
    errors: [503],
  },
  acknowledge: {
    method: 'post',
    path: '/api/v1/notices/{id}/acknowledge',
    tag: 'Notices',
    summary: 'Acknowledge a notice',
    role: 'admin',
    response: { status: 200, description: 'The acknowledged notice.', schema: notice },
    errors: [404, 503],
  },
} satisfies Record<string, RouteDoc>;

/**
 * `GET /notices` (messages from tools that need an admin: an AWS SNS subscription with the URL to
 * confirm it, which Tocsin never fetches by itself) and `POST /notices/{id}/acknowledge`.
 */
export function noticesApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use(requireRole(authenticate, 'admin'));
  app.get('/', async (c) => {
    const query = parseQuery(c, noticeRoutes.list.query);
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
