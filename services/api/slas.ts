import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { invalid, notFound } from '../../runtime/problem.ts';
import { calendarProblems, weekdays } from '../store/business-time.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import {
  getSla,
  incidentStats,
  insertCalendar,
  insertSla,
  listCalendars,
  listSlas,
  lockSlaSubject,
  syncSlaTimers,
  updateSla,
} from '../store/slas.ts';
import { setActor } from '../store/tickets.ts';
import { timestamp } from './responses.ts';
import { checkIfMatch, etagOf } from './tickets.ts';
import { parseId, parseJsonBody, parseQuery, recordId, time } from './validate.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM');
const calendarSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(255),
    timezone: z.string().min(1).max(64),
    hours: z
      .partialRecord(z.enum(weekdays), z.array(z.tuple([hhmm, hhmm])).max(8))
      .refine((h) => Object.keys(h).length > 0, 'open on at least one day'),
    holidays: z.array(z.iso.date()).max(1000).default([]),
  })
  .superRefine((c, ctx) => {
    for (const message of calendarProblems(c))
      ctx.addIssue({ code: 'custom', path: ['hours'], message });
  });

const slaShape = {
  name: z.string().trim().min(1).max(255),
  description: z.string().max(4096).nullable().default(null),
  priorities: z.array(z.number().int().min(1).max(5)).max(5).default([]),
  services: z.array(z.string().trim().min(1).max(255)).max(100).default([]),
  responseMinutes: z.number().int().min(1).max(525_600),
  resolutionMinutes: z.number().int().min(1).max(5_256_000),
  calendarId: z
    .string()
    .regex(/^[1-9]\d{0,18}$/, 'must be a calendar id')
    .nullable()
    .default(null),
  atRiskShare: z.number().gt(0).lt(1).default(0.75),
  active: z.boolean().default(true),
};
const slaSchema = z.strictObject(slaShape).refine((s) => s.resolutionMinutes >= s.responseMinutes, {
  path: ['resolutionMinutes'],
  message: 'must be at least responseMinutes',
});

const DAY_MS = 24 * 60 * 60 * 1000;

const calendar = z
  .looseObject({
    id: recordId,
    name: z.string(),
    timezone: z.string(),
    hours: z.record(z.string(), z.array(z.tuple([z.string(), z.string()]))),
    holidays: z.array(z.string()),
    version: z.number().int(),
  })
  .meta({ title: 'Calendar' });
const sla = z
  .looseObject({
    id: recordId,
    name: z.string(),
    description: z.string().nullable(),
    priorities: z.array(z.number().int()),
    services: z.array(z.string()),
    responseMinutes: z.number().int(),
    resolutionMinutes: z.number().int(),
    calendarId: recordId.nullable(),
    atRiskShare: z.number(),
    active: z.boolean(),
    version: z.number().int().meta({ description: 'Bumped by every write; the `ETag`.' }),
  })
  .meta({ title: 'Sla' });
const oneSla = {
  status: 200,
  description: 'The SLA.',
  schema: sla,
  headers: ['ETag'],
} satisfies RouteDoc['response'];
const tag = 'SLAs';
const nameTaken = [409, 'The name is taken.'] as const;

/** The SLA routes as the API document describes them; the handlers validate with these. */
export const slaRoutes = {
  listCalendars: {
    method: 'get',
    path: '/api/v1/calendars',
    tag,
    summary: 'List business calendars',
    role: 'viewer',
    response: { status: 200, description: 'The calendars, on one page.', schema: pageOf(calendar) },
    errors: [503],
  },
  createCalendar: {
    method: 'post',
    path: '/api/v1/calendars',
    tag,
    summary: 'Create a business calendar',
    description:
      'Opening hours per weekday (local `HH:MM` pairs) in an IANA time zone, and holidays on which the SLA clock stops.',
    role: 'admin',
    body: calendarSchema,
    response: { status: 201, description: 'The new calendar.', schema: calendar },
    errors: [nameTaken, 503],
  },
  listSlas: {
    method: 'get',
    path: '/api/v1/slas',
    tag,
    summary: 'List SLA definitions',
    role: 'viewer',
    response: { status: 200, description: 'The SLAs, on one page.', schema: pageOf(sla) },
    errors: [503],
  },
  createSla: {
    method: 'post',
    path: '/api/v1/slas',
    tag,
    summary: 'Define an SLA',
    description:
      'It applies to incidents of its priorities and services (empty: all), with response and resolution targets in business minutes of its calendar (none: around the clock).',
    role: 'admin',
    body: slaSchema,
    response: {
      ...oneSla,
      status: 201,
      description: 'The new SLA.',
      headers: ['ETag', 'Location'],
    },
    errors: [nameTaken, 503],
  },
  readSla: {
    method: 'get',
    path: '/api/v1/slas/{id}',
    tag,
    summary: 'One SLA definition',
    role: 'viewer',
    response: oneSla,
    errors: [404, 503],
  },
  replaceSla: {
    method: 'put',
    path: '/api/v1/slas/{id}',
    tag,
    summary: 'Replace an SLA definition',
    role: 'admin',
    headers: ['If-Match'],
    body: slaSchema,
    response: oneSla,
    errors: [404, nameTaken, 412, 503],
  },
  incidentTimers: {
    method: 'get',
    path: '/api/v1/incidents/{id}/slas',
    tag,
    summary: 'The SLA timers of an incident',
    description: 'Brought up to date when read.',
    role: 'viewer',
    response: {
      status: 200,
      description: 'The timers, on one page.',
      schema: pageOf(
        z.looseObject({
          id: recordId,
          slaId: recordId,
          sla: z.string(),
          kind: z.enum(['response', 'resolution']),
          targetSeconds: z.number(),
          elapsedSeconds: z.number(),
          remainingSeconds: z.number(),
          breachAt: timestamp.nullable(),
          breached: z.boolean(),
          atRisk: z.boolean(),
          state: z.enum(['running', 'paused', 'met', 'breached']),
        }),
      ),
    },
    errors: [404, 503],
  },
  stats: {
    method: 'get',
    path: '/api/v1/stats',
    tag,
    summary: 'MTTA, MTTR, SLA met share, incidents per service and CI',
    description: 'Over the incidents opened in a range (default: the last 30 days).',
    role: 'viewer',
    query: {
      from: time.optional().meta({ description: 'Start (default: 30 days before `to`).' }),
      to: time.optional().meta({ description: 'End (default: now).' }),
    },
    response: {
      status: 200,
      description: 'The figures.',
      schema: z.looseObject({
        from: timestamp,
        to: timestamp,
        incidents: z.number().int(),
        mttaSeconds: z.number().nullable(),
        mttrSeconds: z.number().nullable(),
        slaMet: z.object({
          all: z.number().nullable(),
          response: z.number().nullable(),
          resolution: z.number().nullable(),
        }),
        byService: z.array(
          z.object({ service: z.string().nullable(), incidents: z.number().int() }),
        ),
        byCi: z.array(z.object({ ci: z.string(), incidents: z.number().int() })),
      }),
    },
    errors: [503],
  },
} satisfies Record<string, RouteDoc>;

/**
 * SLAs: `/slas` (definitions that apply to incidents by priority and service, with response and
 * resolution targets and an optional business calendar), `/calendars`, an incident's timers at
 * `/incidents/{id}/slas`, and `/stats` (MTTA, MTTR, SLA met share, incidents per service and CI).
 * Admins define; everyone reads.
 */
export function slasApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const viewer = requireRole(authenticate, 'viewer');
  const admin = requireRole(authenticate, 'admin');

  app.get('/calendars', viewer, async (c) =>
    c.json({ items: await listCalendars(pool), nextCursor: null }),
  );
  app.post('/calendars', admin, async (c) => {
    const body = await parseJsonBody(c, slaRoutes.createCalendar.body);
    const calendar = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'create');
      return insertCalendar(tx, body);
    });
    return c.json(calendar, 201);
  });

  app.get('/slas', viewer, async (c) => c.json({ items: await listSlas(pool), nextCursor: null }));
  app.post('/slas', admin, async (c) => {
    const body = await parseJsonBody(c, slaRoutes.createSla.body);
    const sla = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'create');
      return insertSla(tx, body);
    });
    c.header('Location', `/api/v1/slas/${sla.id}`);
    c.header('ETag', etagOf(sla.version));
    return c.json(sla, 201);
  });
  app.get('/slas/:id', viewer, async (c) => {
    const id = parseId(c.req.param('id'), 'SLA');
    const sla = await getSla(pool, id);
    if (!sla) throw notFound(`No SLA ${id}.`);
    c.header('ETag', etagOf(sla.version));
    return c.json(sla);
  });
  app.put('/slas/:id', admin, async (c) => {
    const id = parseId(c.req.param('id'), 'SLA');
    const body = await parseJsonBody(c, slaRoutes.replaceSla.body);
    const sla = await withTransaction(pool, async (tx) => {
      const current = await getSla(tx, id, true);
      if (!current) throw notFound(`No SLA ${id}.`);
      checkIfMatch(c, current.version);
      await setActor(tx, c.get('principal').name);
      return updateSla(tx, id, body);
    });
    c.header('ETag', etagOf(sla.version));
    return c.json(sla);
  });

  app.get('/incidents/:id/slas', viewer, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const timers = await withTransaction(pool, async (tx) => {
      const subject = await lockSlaSubject(tx, id);
      if (!subject) throw notFound(`No incident ${id}.`);
      return syncSlaTimers(tx, subject, new Date());
    });
    return c.json({ items: timers, nextCursor: null });
  });

  app.get('/stats', viewer, async (c) => {
    const query = parseQuery(c, slaRoutes.stats.query);
    const to = query.to ?? new Date().toISOString();
    const from = query.from ?? new Date(Date.parse(to) - 30 * DAY_MS).toISOString();
    if (Date.parse(from) >= Date.parse(to))
      throw invalid([{ pointer: '/query/from', detail: 'must be before to' }]);
    return c.json(await incidentStats(pool, from, to));
  });
  return app;
}
