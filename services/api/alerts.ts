import { Hono } from 'hono';
import { z } from 'zod';
import { alertStatuses, severities } from '../../correlator/alert.ts';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound } from '../../runtime/problem.ts';
import { getAlert, listAlerts } from '../store/alerts.ts';
import { getDeliveryBody } from '../store/deliveries.ts';
import type { Pool } from '../store/db.ts';
import { timestamp } from './responses.ts';
import { pageQuery, parseId, parseQuery, recordId } from './validate.ts';

/** An alert as the alert routes serve it. */
export const alert = z
  .looseObject({
    id: recordId,
    fingerprint: z.string(),
    incidentId: recordId.nullable(),
    title: z.string(),
    description: z.string().nullable(),
    severity: z.enum(severities),
    status: z.enum(alertStatuses),
    ci: z.string().nullable(),
    service: z.string().nullable(),
    source: z.string(),
    labels: z.record(z.string(), z.string()),
    startsAt: timestamp,
    endsAt: timestamp.nullable(),
    firstReceivedAt: timestamp,
    lastReceivedAt: timestamp,
    count: z.number().int().meta({ description: 'How many deliveries carried this alert.' }),
    version: z.number().int(),
    episode: z.number().int().meta({
      description:
        'Its firing episode: the fingerprint firing again after it resolved is a new one.',
    }),
    template: z.string().nullable().meta({ description: 'The message, variable parts masked.' }),
    explanation: z
      .looseObject({
        decision: z.enum(['new', 'attach', 'merge']),
        score: z.number(),
        hops: z.number().int().nullable(),
        path: z.array(z.string()),
        text: z.number(),
        chance: z.number().optional().meta({
          description:
            'The chance that its placement is a coincidence (an unrelated alert landing this near, this soon); its topology closeness counted for 1 − this.',
        }),
        lone: z.number().optional().meta({
          description:
            'For an attach to an incident of one alert: the chance of a coincidence weighing how often, how soon and (placed by topology) how near lone alerts have lately had company.',
        }),
        secondsSinceFirst: z.number(),
        merged: z.array(z.string()),
        late: z.boolean(),
        basis: z.enum(['topology', 'text-time', 'text']).optional().meta({
          description:
            'What placed it in its incident: nearness in the CMDB, or text and time beyond chance where the CMDB could not place it (absent for a new incident).',
        }),
        message: z.string().meta({
          description:
            'The above in one sentence; it names incidents by number (incident INC0001003).',
        }),
        incidents: z
          .array(
            z.object({
              id: z.string(),
              number: z.string(),
              at: z.array(z.number().int()).meta({
                description:
                  'Where the message names it: the offsets (UTF-16 code units) of each "incident <number>". Only these are references: the message also quotes what senders wrote, such as a CI called "incident 42".',
              }),
            }),
          )
          .optional()
          .meta({ description: 'The incidents the message names, with their ids.' }),
      })
      .nullable()
      .meta({ description: 'Why the correlator put it in its incident.' }),
    flapping: z.boolean(),
    expiredAt: timestamp.nullable().meta({ description: 'Resolved by its time to live.' }),
    pinned: z.boolean().meta({ description: 'Put in its incident by a person.' }),
  })
  .meta({ title: 'Alert' });

/** The alert routes as the API document describes them; the handlers validate with these. */
export const alertRoutes = {
  list: {
    method: 'get',
    path: '/api/v1/alerts',
    tag: 'Alerts',
    summary: 'List alerts, newest first',
    role: 'viewer',
    query: {
      ...pageQuery,
      incidentId: recordId.optional(),
      fingerprint: z.string().min(1).max(512).optional(),
      status: z.enum(alertStatuses).optional(),
    },
    response: { status: 200, description: 'A page of alerts.', schema: pageOf(alert) },
    errors: [503],
  },
  read: {
    method: 'get',
    path: '/api/v1/alerts/{id}',
    tag: 'Alerts',
    summary: 'One alert, with the payload it last came in',
    description:
      'The original body goes out as it came in (JSON as JSON, anything else as a string; a body sent in another charset than UTF-8, as the text it was decoded to).',
    role: 'viewer',
    response: {
      status: 200,
      description: 'The alert.',
      schema: alert.extend({
        payload: z.unknown().meta({ description: 'The delivery body; null when it was pruned.' }),
        payloadContentType: z.string().optional().meta({
          description:
            'The media type the delivery came with, without its parameters: a body declared in another charset than UTF-8 was decoded on receipt, and `payload` is that text, in UTF-8.',
        }),
        payloadReceivedAt: timestamp.optional(),
      }),
    },
    errors: [404, 503],
  },
} satisfies Record<string, RouteDoc>;

/** `GET /alerts` (filters incidentId, fingerprint, status) and `GET /alerts/{id}`. */
export function alertsApi(pool: Pool, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, alertRoutes.list.query);
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
    // spliced in as JSON text, never parsed and re-serialized. NDJSON goes out as a string. A
    // body sent in another charset than UTF-8 was decoded on receipt: it goes out as that text,
    // in UTF-8, and `payloadContentType` is the media type alone (ingest stores no charset).
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
