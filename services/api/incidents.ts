import { z } from 'zod';
import { invalid } from '../../runtime/problem.ts';
import type { Queryable } from '../store/db.ts';
import { syncSlaTimers, type SlaSubject } from '../store/slas.ts';
import { incidentWorkflow } from '../store/workflows.ts';
import type { TicketSpec, TransitionEffect, TransitionInput } from './tickets.ts';

const id = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a record id');
const channel = z.enum(['monitoring', 'phone', 'email', 'self_service']);

const needs = (field: 'resolutionCode' | 'reason', action: string): TransitionEffect => ({
  ok: false,
  detail: `"${action}" needs ${field === 'reason' ? 'a reason' : 'a resolution code'}.`,
  pointer: `/${field}`,
});

/** What each incident action writes besides the state. */
function incidentTransition({ ticket, action, body, now }: TransitionInput): TransitionEffect {
  switch (action) {
    case 'acknowledge':
      return { ok: true, values: { acknowledgedAt: now } };
    case 'hold':
      if (!body.reason) return needs('reason', action);
      return { ok: true, values: { holdReason: body.reason } };
    case 'resume':
      return { ok: true, values: { holdReason: null } };
    case 'resolve':
      if (!body.resolutionCode) return needs('resolutionCode', action);
      return {
        ok: true,
        values: {
          resolvedAt: now,
          acknowledgedAt: ticket.acknowledgedAt ?? now,
          resolutionCode: body.resolutionCode,
          resolutionNotes: body.resolutionNotes ?? null,
          holdReason: null,
        },
      };
    case 'reopen':
      return {
        ok: true,
        values: {
          resolvedAt: null,
          resolutionCode: null,
          resolutionNotes: null,
          reopenCount: (ticket.reopenCount as number) + 1,
        },
      };
    case 'close':
      return { ok: true, values: { closedAt: now } };
    case 'cancel':
      if (!body.reason) return needs('reason', action);
      return {
        ok: true,
        values: { closedAt: now, resolutionCode: 'canceled', resolutionNotes: body.reason },
      };
    default:
      return { ok: true, values: {} };
  }
}

const ANCESTRY = `
-- Whether an incident is among its own ancestors (a parent chain that comes back to it), walking
-- at most 1,000 parents up (the bound also ends a cycle stored before this check). Params: id.
WITH RECURSIVE up (id, depth) AS (
  SELECT parent_id, 1 FROM incidents WHERE id = $1
  UNION ALL
  SELECT i.parent_id, up.depth + 1 FROM incidents i JOIN up ON i.id = up.id
  WHERE up.id <> $1 AND up.depth < 1000
)
SELECT EXISTS (SELECT 1 FROM up WHERE id = $1) AS cycle`;

/**
 * Refuses a parent that makes an incident its own parent or ancestor: written as given, an
 * incident could be its own parent, or two each other's.
 */
async function checkParent(q: Queryable, ticket: { id: string; parentId?: unknown }) {
  if (typeof ticket.parentId !== 'string') return;
  const { rows } = await q.query<{ cycle: boolean }>(ANCESTRY, [ticket.id]);
  if (rows[0]?.cycle)
    throw invalid([
      {
        pointer: '/parentId',
        detail: `incident ${ticket.parentId} is this incident or one of its children; an incident cannot be its own ancestor`,
      },
    ]);
}

/** Incidents: NOC operators open, edit and move them; the correlator opens most of them. */
export const incidentSpec: TicketSpec = {
  kind: 'incident',
  writeRole: 'noc_operator',
  createShape: {
    severity: z.enum(['critical', 'major', 'minor', 'warning', 'info']).default('warning'),
    channel: channel.default('phone'),
    parentId: id.nullish(),
    major: z.boolean().default(false),
    problemId: id.nullish(),
    suspectedChangeId: id.nullish(),
  },
  updateShape: {
    channel: channel.optional(),
    parentId: id.nullable().optional(),
    major: z.boolean().optional(),
    problemId: id.nullable().optional(),
    suspectedChangeId: id.nullable().optional(),
  },
  workflowOf: () => incidentWorkflow,
  workflows: [incidentWorkflow],
  onCreate: () => {
    const now = new Date().toISOString();
    return { openedAt: now, lastAlertAt: now };
  },
  onTransition: (input) => Promise.resolve(incidentTransition(input)),
  afterWrite: async (q, ticket, now) => {
    await checkParent(q, ticket);
    await syncSlaTimers(q, ticket as unknown as SlaSubject, now);
  },
};
