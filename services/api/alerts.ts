import { Hono } from 'hono';
import { z } from 'zod';
import { alertStatuses } from '../../correlator/alert.ts';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { notFound } from '../../runtime/problem.ts';
import { getAlert, listAlerts } from '../store/alerts.ts';
import { getDeliveryBody } from '../store/deliveries.ts';
import type { Pool } from '../store/db.ts';
import { pageQuery, parseId, parseQuery } from './validate.ts';

/** `GET /alerts` (filters incidentId, fingerprint, status) and `GET /alerts/{id}`. */
export function alertsApi(pool: Pool, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, {
      ...pageQuery,
      incidentId: z
        .string()
        .regex(/^[1-9]\d{0,18}$/, 'must be an incident id')
        .optional(),
      fingerprint: z.string().min(1).max(512).optional(),
      status: z.enum(alertStatuses).optional(),
    });
    return c.json(await listAlerts(pool, query, query.limit, query.cursor ?? null));
  });
  app.get('/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'alert');
    const alert = await getAlert(pool, id);
    if (!alert) throw notFound(`No alert ${id}.`);
    const delivery = alert.lastDeliveryId
      ? await getDeliveryBody(pool, alert.lastDeliveryId)
      : null;
    if (!delivery) return c.json({ ...alert, payload: null });
    // The original body goes out as it came in, byte for byte (integers beyond 2^53 included):
    // spliced in as JSON text, never parsed and re-serialized. NDJSON goes out as a string.
    const raw =
      delivery.contentType.includes('json') && !/ndjson|jsonl/.test(delivery.contentType)
        ? delivery.body
        : JSON.stringify(delivery.body);
    const head = JSON.stringify({
      ...alert,
      payloadContentType: delivery.contentType,
      payloadReceivedAt: delivery.receivedAt,
    });
    return c.body(`${head.slice(0, -1)},"payload":${raw}}`, 200, {
      'Content-Type': 'application/json',
    });
  });
  return app;
}
