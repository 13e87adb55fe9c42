import { z } from 'zod';
import { linkEvidenceIncidents } from '../store/problem-candidates.ts';
import { problemWorkflow } from '../store/workflows.ts';
import type { TicketSpec, TransitionEffect, TransitionInput } from './tickets.ts';

const longText = z.string().max(65536).nullish();

/** What each problem action writes besides the state. */
function problemTransition({ ticket, action, body, now }: TransitionInput): TransitionEffect {
  switch (action) {
    case 'accept':
    case 'assess':
      return { ok: true, values: { acknowledgedAt: ticket.acknowledgedAt ?? now } };
    case 'reject':
    case 'cancel':
      if (!body.reason)
        return { ok: false, detail: `"${action}" needs a reason.`, pointer: '/reason' };
      return {
        ok: true,
        values: {
          closedAt: now,
          resolutionCode: action === 'reject' ? 'rejected' : 'canceled',
          resolutionNotes: body.reason,
        },
      };
    case 'resolve':
      if (!body.resolutionCode)
        return {
          ok: false,
          detail: '"resolve" needs a resolution code.',
          pointer: '/resolutionCode',
        };
      return {
        ok: true,
        values: {
          resolvedAt: now,
          resolutionCode: body.resolutionCode,
          resolutionNotes: body.resolutionNotes ?? null,
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
    default:
      return { ok: true, values: {} };
  }
}

/** Problems: problem managers record, analyse and fix the causes of recurring incidents. */
export const problemSpec: TicketSpec = {
  kind: 'problem',
  writeRole: 'problem_manager',
  createShape: { cause: longText, workaround: longText, fix: longText },
  updateShape: {
    cause: z.string().max(65536).nullable().optional(),
    workaround: z.string().max(65536).nullable().optional(),
    fix: z.string().max(65536).nullable().optional(),
  },
  workflowOf: () => problemWorkflow,
  workflows: [problemWorkflow],
  onTransition: async (input) => {
    const effect = problemTransition(input);
    // Accepting a mined candidate links the incidents of its evidence, in the same transaction;
    // rejecting keeps the row and its signature, so the pattern is never proposed again.
    if (effect.ok && input.action === 'accept')
      await linkEvidenceIncidents(input.q, input.ticket.id);
    return effect;
  },
};
