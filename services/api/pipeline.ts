import { Hono } from 'hono';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import type { Pool } from '../store/db.ts';
import { pendingInbox } from '../store/inbox.ts';
import { outboxBacklog } from '../store/outbox.ts';

/**
 * `GET /pipeline`: how far behind the pipeline is. `pending` counts alerts accepted but not yet
 * correlated (0: every accepted alert is reflected in incidents); `searchBacklog` counts record
 * changes not yet in Elasticsearch.
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
      oldestPendingAt: inbox.oldest,
      searchBacklog,
      queues,
    });
  });
  return app;
}
