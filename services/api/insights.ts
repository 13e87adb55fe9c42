import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { invalid, notFound, unavailable } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { incidentPatterns, similarIncidents, type Answer } from '../store/search-insights.ts';
import type { SearchClient } from '../store/search.ts';
import { getTicket } from '../store/tickets.ts';
import { timestamp } from './responses.ts';
import { parseId, parseQuery, recordId, time } from './validate.ts';

const count = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
const DAY_MS = 24 * 60 * 60 * 1000;

const searchAway = [
  503,
  'PostgreSQL or Elasticsearch is away; retry after `Retry-After` seconds.',
] as const;

/** The insight routes as the API document describes them; the handlers validate with these. */
export const insightRoutes = {
  similar: {
    method: 'get',
    path: '/api/v1/incidents/{id}/similar',
    tag: 'Incidents',
    summary: 'Past incidents like this one',
    description: 'By text, CIs and service, best first.',
    role: 'viewer',
    query: { limit: count(1, 100, 10).meta({ description: 'How many, 1–100 (default 10).' }) },
    response: {
      status: 200,
      description: 'The similar incidents, on one page.',
      schema: pageOf(
        z.object({
          id: recordId,
          score: z.number(),
          record: z.looseObject({}).meta({ description: 'The incident as indexed.' }),
        }),
      ),
    },
    errors: [404, searchAway],
  },
  patterns: {
    method: 'get',
    path: '/api/v1/problems/patterns',
    tag: 'Problems',
    summary: 'Recurring patterns among incidents',
    description:
      'By signature, CI, service and category: counts, first and last, weekly trend, and the problems that already cover them. Default: the last 90 days; at most three years.',
    role: 'viewer',
    query: {
      from: time.optional().meta({ description: 'Start (default: 90 days before `to`).' }),
      to: time.optional().meta({ description: 'End (default: now).' }),
      top: count(1, 100, 10).meta({ description: 'Patterns per dimension, 1–100 (default 10).' }),
      minIncidents: count(1, 1_000_000, 2).meta({
        description: 'Fewest incidents a pattern has (default 2).',
      }),
    },
    response: {
      status: 200,
      description: 'The patterns by dimension.',
      schema: z.object({
        from: timestamp,
        to: timestamp,
        patterns: z.record(
          z.string(),
          z.array(
            z.object({
              value: z.string(),
              incidents: z.number().int(),
              firstAt: timestamp.nullable(),
              lastAt: timestamp.nullable(),
              weekly: z.array(z.object({ week: z.string(), count: z.number().int() })),
              problems: z.array(z.string()),
              covered: z.boolean(),
            }),
          ),
        ),
      }),
    },
    errors: [searchAway],
  },
} satisfies Record<string, RouteDoc>;

function answered<T>(answer: Answer<T>): T {
  if (answer.kind === 'ok') return answer.value;
  throw unavailable(`Search is unavailable (${answer.reason}); try again shortly.`);
}

/**
 * What NOC staff and problem managers ask of the history, answered by Elasticsearch:
 * `GET /incidents/{id}/similar` and `GET /problems/patterns`. Mounted on /api/v1 before the ticket
 * routes, so that `patterns` is not read as a problem id.
 */
export function insightsApi(
  pool: Pool,
  es: SearchClient,
  indexPrefix: string,
  authenticate: Authenticate,
): Hono {
  const app = new Hono();
  const viewer = requireRole(authenticate, 'viewer');

  app.get('/incidents/:id/similar', viewer, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const query = parseQuery(c, insightRoutes.similar.query);
    if (!(await getTicket(pool, 'incident', id))) throw notFound(`No incident ${id}.`);
    const items = answered(await similarIncidents(es, indexPrefix, id, query.limit));
    return c.json({ items, nextCursor: null });
  });

  app.get('/problems/patterns', viewer, async (c) => {
    const now = Date.now();
    const query = parseQuery(c, insightRoutes.patterns.query);
    const to = query.to ?? new Date(now).toISOString();
    const from = query.from ?? new Date(Date.parse(to) - 90 * DAY_MS).toISOString();
    if (Date.parse(from) >= Date.parse(to))
      throw invalid([{ pointer: '/query/from', detail: 'must be before to' }]);
    if (Date.parse(to) - Date.parse(from) > 3 * 366 * DAY_MS)
      throw invalid([{ pointer: '/query/from', detail: 'the range is at most three years' }]);
    const patterns = answered(
      await incidentPatterns(es, indexPrefix, {
        from,
        to,
        top: query.top,
        minIncidents: query.minIncidents,
      }),
    );
    return c.json({ from, to, patterns });
  });
  return app;
}
