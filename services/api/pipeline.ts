import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import type { RouteDoc } from '../../runtime/openapi.ts';
import type { Pool } from '../store/db.ts';
import { PENDING_EXACT_UP_TO, pendingInbox } from '../store/inbox.ts';
import { outboxBacklog } from '../store/outbox.ts';
import { timestamp } from './responses.ts';

const exactUpTo = PENDING_EXACT_UP_TO.toLocaleString('en');

/** The pipeline route as the API document describes it. */
export const pipelineRoutes = {
  status: {
    method: 'get',
    path: '/api/v1/pipeline',
    tag: 'Pipeline',
    summary: 'How far behind the pipeline is',
    role: 'viewer',
    response: {
      status: 200,
      description: 'Backlogs of correlation and search.',
      schema: z.object({
        pending: z
          .number()
          .int()
          .meta({
            description: `Alerts accepted but not yet correlated (0: every one is in incidents); beyond ${exactUpTo}, estimated from the inbox ids still ahead of the correlator.`,
          }),
        pendingExact: z.boolean().meta({
          description: `Whether \`pending\` is a count (up to ${exactUpTo}) or an estimate.`,
        }),
        oldestPendingAt: timestamp
          .nullable()
          .meta({ description: 'When the first pending alert (in inbox order) was accepted.' }),
        searchBacklog: z
          .number()
          .int()
          .meta({ description: 'Record changes not yet in Elasticsearch.' }),
        queues: z
          .record(z.string(), z.number().int())
          .nullable()
          .meta({ description: 'Jobs waiting per queue; null while Redis is away.' }),
      }),
    },
    errors: [503],
  },
} satisfies Record<string, RouteDoc>;

/**
 * `GET /pipeline`: how far behind the pipeline is. `pending` counts alerts accepted but not yet
 * correlated (0: every accepted alert is reflected in incidents; estimated beyond
 * PENDING_EXACT_UP_TO, as `pendingExact` says); `searchBacklog` counts record changes not yet in
 * Elasticsearch.
 */
export function pipelineApi(
  pool: Pool,
  authenticate: Authenticate,
  queueDepth: () => Promise<Record<string, number>>,
): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const [inbox, searchBacklog, queues] = await Promise.all([
      pendingInbox(pool),
      outboxBacklog(pool),
      queueDepth().catch(() => null),
    ]);
    return c.json({
      pending: inbox.pending,
      pendingExact: inbox.exact,
      oldestPendingAt: inbox.oldest,
      searchBacklog,
      queues,
    });
  });
  return app;
}
