import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import type { RouteDoc } from '../../runtime/openapi.ts';
import { notFound, ProblemError } from '../../runtime/problem.ts';
import { getAlert } from '../store/alerts.ts';
import {
  mergeIncidents,
  moveAlert,
  splitIncident,
  type OverrideRefusal,
} from '../store/correlation-overrides.ts';
import { withTransaction, type Pool, type Queryable } from '../store/db.ts';
import { getTicket, setActor } from '../store/tickets.ts';
import { allowedActions, incidentWorkflow } from '../store/workflows.ts';
import { alert } from './alerts.ts';
import { incidentSpec } from './incidents.ts';
import { checkIfMatch, etagOf, ticketRoutes } from './tickets.ts';
import { parseId, parseJsonBody, recordId } from './validate.ts';

const distinct = (ids: string[]) => new Set(ids).size === ids.length;

const incidentRoutes = ticketRoutes(incidentSpec);
// An incident as the ticket routes serve it (fields, allowedActions), with its ETag.
const servedIncident = incidentRoutes.read.response.schema;
const closedMeaning =
  'An incident it names is closed or canceled (merged): `pointer` names it; or an incident would be merged into itself.';

/**
 * The routes by which people correct the correlation, as the API document describes them; the
 * handlers validate with these schemas.
 */
export const correlationRoutes = {
  merge: {
    method: 'post',
    path: '/api/v1/incidents/{id}/merge',
    tag: 'Incidents',
    summary: 'Merge incidents into this one',
    description:
      'Every alert of the listed incidents moves to this incident (pinned or not as it was); each listed incident is canceled with `resolutionCode` `merged` and a note; this incident’s alert count, CIs, last alert, opening and severity follow from its alerts. The correlator replays the merge. `If-Match` is checked against this incident.',
    role: incidentSpec.writeRole,
    headers: ['If-Match'],
    body: z.strictObject({
      incidentIds: z
        .array(recordId)
        .min(1)
        .max(100)
        .refine(distinct, 'each incident once')
        .meta({ description: 'The incidents to merge into this one.' }),
    }),
    response: {
      status: 200,
      description: 'This incident after the merge.',
      schema: servedIncident,
      headers: ['ETag'],
    },
    errors: [
      [404, 'No such incident: `pointer` names a listed one.'],
      [409, closedMeaning],
      412,
      503,
    ],
  },
  split: {
    method: 'post',
    path: '/api/v1/incidents/{id}/split',
    tag: 'Incidents',
    summary: 'Split alerts of this incident into a new incident',
    description:
      'The alerts (some of this incident’s, never all) move to a new incident named after its worst firing alert and created by the caller, with this incident’s impact, urgency and priority; they are pinned there, so the correlator keeps them. Both incidents’ derived fields follow from their alerts. `If-Match` is checked against this incident.',
    role: incidentSpec.writeRole,
    headers: ['If-Match'],
    body: z.strictObject({
      alertIds: z
        .array(recordId)
        .min(1)
        .max(1000)
        .refine(distinct, 'each alert once')
        .meta({ description: 'Alerts of this incident to split off.' }),
    }),
    response: {
      status: 201,
      description: 'The new incident.',
      schema: servedIncident,
      headers: ['ETag', 'Location'],
    },
    errors: [
      [404, 'No such incident or alert: `pointer` names a listed alert.'],
      [409, 'The incident is closed or canceled (merged).'],
      412,
      [
        422,
        'A listed alert is not in this incident, or the list holds all of its alerts: `pointer` names it.',
      ],
      503,
    ],
  },
  move: {
    method: 'post',
    path: '/api/v1/alerts/{id}/move',
    tag: 'Alerts',
    summary: 'Move an alert to another incident',
    description:
      'The alert moves and is pinned there, so the correlator keeps it; both incidents’ derived fields follow from their alerts, and an incident left without alerts is canceled with a note. Moving an alert to its own incident pins it. `If-Match` is checked against the alert’s `version`.',
    role: incidentSpec.writeRole,
    headers: ['If-Match'],
    body: z.strictObject({
      incidentId: recordId.meta({ description: 'The incident the alert belongs to.' }),
    }),
    response: {
      status: 200,
      description: 'The alert, the incident it left (null: none) and the one it is in now.',
      schema: z.object({
        alert,
        from: servedIncident.nullable(),
        to: servedIncident,
      }),
    },
    errors: [
      [404, 'No such alert, or no such incident (`pointer` `/incidentId`).'],
      [409, 'The target incident is closed or canceled (merged).'],
      412,
      503,
    ],
  },
} satisfies Record<string, RouteDoc>;

/** Answers a refused correction with its problem; throwing rolls the transaction back. */
function refuse(refusal: OverrideRefusal): never {
  const at = { pointer: refusal.pointer };
  switch (refusal.reason) {
    case 'unknown-incident':
      throw new ProblemError(404, 'not-found', 'Not found', `No incident ${refusal.id}.`, at);
    case 'unknown-alert':
      throw new ProblemError(404, 'not-found', 'Not found', `No alert ${refusal.id}.`, at);
    case 'incident-closed':
      throw new ProblemError(
        409,
        'incident-closed',
        'The incident is closed',
        `${refusal.number} is ${refusal.state}${refusal.mergedInto ? ` (merged into incident ${refusal.mergedInto})` : ''}; people correct open or resolved incidents only.`,
        { ...at, state: refusal.state },
      );
    case 'merge-into-self':
      throw new ProblemError(
        409,
        'merge-into-self',
        'An incident cannot be merged into itself',
        `Incident ${refusal.id} is the incident merged into.`,
        at,
      );
    case 'alert-not-in-incident':
      throw new ProblemError(
        422,
        'alert-not-in-incident',
        'The alert is not in this incident',
        `Alert ${refusal.id} is in ${refusal.incidentId === null ? 'no incident' : `incident ${refusal.incidentId}`}.`,
        at,
      );
    case 'split-takes-all':
      throw new ProblemError(
        422,
        'split-takes-all',
        'A split must leave alerts behind',
        'The list holds every alert of the incident; leave at least one, or rename the incident instead.',
        at,
      );
  }
}

async function renderIncident(q: Queryable, id: string) {
  const ticket = await getTicket(q, 'incident', id);
  if (!ticket) throw notFound(`No incident ${id}.`);
  return { ...ticket, allowedActions: allowedActions(incidentWorkflow, ticket.state) };
}

/**
 * `POST /incidents/{id}/merge`, `POST /incidents/{id}/split` and `POST /alerts/{id}/move`: people
 * correct the correlation, each in one transaction with its audit trail, the search outbox and the
 * override the correlator replays. Mount it before the alert routes, whose viewer check would
 * otherwise run first.
 */
export function correlationApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const write = requireRole(authenticate, incidentSpec.writeRole);
  const precondition = (c: Context) => (version: number) => checkIfMatch(c, version);

  app.post('/incidents/:id/merge', write, async (c) => {
    const into = parseId(c.req.param('id'), 'incident');
    const body = await parseJsonBody(c, correlationRoutes.merge.body);
    const actor = c.get('principal').name;
    const incident = await withTransaction(pool, async (tx) => {
      await setActor(tx, actor, 'merge');
      const outcome = await mergeIncidents(tx, {
        into,
        incidentIds: body.incidentIds,
        actor,
        precondition: precondition(c),
      });
      if (!outcome.ok) refuse(outcome);
      return renderIncident(tx, into);
    });
    c.header('ETag', etagOf(incident.version));
    return c.json(incident);
  });

  app.post('/incidents/:id/split', write, async (c) => {
    const from = parseId(c.req.param('id'), 'incident');
    const body = await parseJsonBody(c, correlationRoutes.split.body);
    const actor = c.get('principal').name;
    const incident = await withTransaction(pool, async (tx) => {
      await setActor(tx, actor, 'split');
      const outcome = await splitIncident(tx, {
        from,
        alertIds: body.alertIds,
        actor,
        precondition: precondition(c),
      });
      if (!outcome.ok) refuse(outcome);
      return renderIncident(tx, outcome.incidentId);
    });
    c.header('Location', `/api/v1/incidents/${incident.id}`);
    c.header('ETag', etagOf(incident.version));
    return c.json(incident, 201);
  });

  app.post('/alerts/:id/move', write, async (c) => {
    const alertId = parseId(c.req.param('id'), 'alert');
    const body = await parseJsonBody(c, correlationRoutes.move.body);
    const actor = c.get('principal').name;
    const moved = await withTransaction(pool, async (tx) => {
      await setActor(tx, actor, 'move');
      const outcome = await moveAlert(tx, {
        alertId,
        incidentId: body.incidentId,
        actor,
        precondition: precondition(c),
      });
      if (!outcome.ok) refuse(outcome);
      const { lastDeliveryId: _, ...stored } = (await getAlert(tx, alertId))!;
      return {
        alert: stored,
        from:
          outcome.from === null || outcome.from === body.incidentId
            ? null
            : await renderIncident(tx, outcome.from),
        to: await renderIncident(tx, body.incidentId),
      };
    });
    return c.json(moved);
  });

  return app;
}
