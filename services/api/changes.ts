import { z } from 'zod';
import {
  changeWindow,
  listApprovals,
  overlappingChanges,
  recordApproval,
  type ChangeTimes,
} from '../store/changes.ts';
import type { Queryable } from '../store/db.ts';
import type { Ticket } from '../store/tickets.ts';
import { changeTypes, changeWorkflows, type ChangeType } from '../store/workflows.ts';
import type { TicketSpec, TransitionEffect, TransitionInput } from './tickets.ts';
import { time } from './validate.ts';

const risk = z.enum(['low', 'moderate', 'high', 'very_high']);
const plan = z.string().max(65536);
/** Close codes of a change. */
export const changeCloseCodes = ['successful', 'successful_with_issues', 'unsuccessful'] as const;

const missing = (field: string, action: string): TransitionEffect => ({
  ok: false,
  detail: `"${action}" needs ${field}.`,
  pointer: `/${field}`,
});

/** What each change action writes besides the state; `approve` waits for enough approvals. */
async function changeTransition(input: TransitionInput): Promise<TransitionEffect> {
  const { q, ticket, action, body, actor, now } = input;
  switch (action) {
    case 'submit':
      if (!ticket.plannedStart || !ticket.plannedEnd)
        return {
          ok: false,
          detail: 'Plan the window first: "submit" needs plannedStart and plannedEnd.',
          pointer: ticket.plannedStart ? '/plannedEnd' : '/plannedStart',
        };
      return { ok: true, values: {} };
    case 'request_approval':
      if (!ticket.implementationPlan) return missing('implementationPlan', action);
      if (!ticket.backoutPlan) return missing('backoutPlan', action);
      return { ok: true, values: {} };
    case 'approve': {
      const approved = await recordApproval(q, ticket.id, {
        approver: actor,
        decision: 'approved',
        comment: body.comment ?? null,
      });
      return {
        ok: true,
        values: {},
        keepState: approved < (ticket.requiredApprovals as number),
      };
    }
    case 'reject':
      if (!body.reason) return missing('reason', action);
      await recordApproval(q, ticket.id, {
        approver: actor,
        decision: 'rejected',
        comment: body.reason,
      });
      return {
        ok: true,
        values: { closedAt: now, resolutionCode: 'rejected', resolutionNotes: body.reason },
      };
    case 'implement':
      return { ok: true, values: { actualStart: now } };
    case 'review':
      return { ok: true, values: { actualEnd: now, resolvedAt: now } };
    case 'close':
      if (!changeCloseCodes.includes(body.resolutionCode as (typeof changeCloseCodes)[number]))
        return {
          ok: false,
          detail: `"close" needs resolutionCode, one of ${changeCloseCodes.join(', ')}.`,
          pointer: '/resolutionCode',
        };
      return {
        ok: true,
        values: {
          closedAt: now,
          resolutionCode: body.resolutionCode,
          resolutionNotes: body.resolutionNotes ?? null,
        },
      };
    case 'cancel':
      if (!body.reason) return missing('reason', action);
      return {
        ok: true,
        values: { closedAt: now, resolutionCode: 'canceled', resolutionNotes: body.reason },
      };
    default:
      return { ok: true, values: {} };
  }
}

/** Approvals and the changes that overlap this one on a CI: a warning, not a refusal. */
async function decorateChange(q: Queryable, ticket: Ticket): Promise<Record<string, unknown>> {
  const now = new Date();
  const window = changeWindow(ticket as Ticket & ChangeTimes, now);
  const cis = ticket.cis as string[];
  const conflicts =
    window && cis.length > 0 && !['closed', 'canceled'].includes(ticket.state)
      ? await overlappingChanges(q, { id: ticket.id, cis, ...window }, now)
      : [];
  return {
    approvals: await listApprovals(q, ticket.id),
    warnings: conflicts.map((c) => ({
      code: 'overlapping-change',
      detail: `${c.number} (${c.state}) changes ${c.cis.join(', ')} from ${c.start} to ${c.end}, overlapping this window.`,
      change: c,
    })),
  };
}

/** Changes: standard, normal and emergency, each with its own flow; change managers run them. */
export const changeSpec: TicketSpec = {
  kind: 'change',
  writeRole: 'change_manager',
  createShape: {
    type: z.enum(changeTypes),
    risk: risk.default('moderate'),
    plannedStart: time.nullish(),
    plannedEnd: time.nullish(),
    implementationPlan: plan.nullish(),
    backoutPlan: plan.nullish(),
    testPlan: plan.nullish(),
    requiredApprovals: z.number().int().min(0).max(10).optional(),
  },
  updateShape: {
    risk: risk.optional(),
    plannedStart: time.nullable().optional(),
    plannedEnd: time.nullable().optional(),
    implementationPlan: plan.nullable().optional(),
    backoutPlan: plan.nullable().optional(),
    testPlan: plan.nullable().optional(),
    requiredApprovals: z.number().int().min(0).max(10).optional(),
  },
  workflowOf: (ticket) => changeWorkflows[ticket.type as ChangeType],
  workflows: Object.values(changeWorkflows),
  onCreate: (body) => ({
    requiredApprovals: body.requiredApprovals ?? (body.type === 'standard' ? 0 : 1),
  }),
  onTransition: changeTransition,
  decorate: decorateChange,
};
