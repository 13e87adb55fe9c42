import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  assetWorkflow,
  changeWorkflows,
  incidentWorkflow,
  knownErrorWorkflow,
  problemWorkflow,
  step,
  type Workflow,
} from '../../services/store/workflows.ts';

// Every allowed transition, written out by hand as the issue states the flows; every pair of
// state and action not listed here must be refused.
const expected: Record<string, { w: Workflow<string, string>; allowed: string[] }> = {
  incident: {
    w: incidentWorkflow,
    allowed: [
      'new --acknowledge--> in_progress',
      'new --hold--> on_hold',
      'in_progress --hold--> on_hold',
      'on_hold --resume--> in_progress',
      'new --resolve--> resolved',
      'in_progress --resolve--> resolved',
      'on_hold --resolve--> resolved',
      'resolved --reopen--> in_progress',
      'resolved --close--> closed',
      'new --cancel--> canceled',
      'in_progress --cancel--> canceled',
      'on_hold --cancel--> canceled',
    ],
  },
  problem: {
    w: problemWorkflow,
    allowed: [
      'candidate --accept--> new',
      'candidate --reject--> rejected',
      'new --assess--> assess',
      'assess --analyze--> root_cause_analysis',
      'root_cause_analysis --fix--> fix_in_progress',
      'root_cause_analysis --resolve--> resolved',
      'fix_in_progress --resolve--> resolved',
      'resolved --reopen--> root_cause_analysis',
      'resolved --close--> closed',
      'new --cancel--> canceled',
      'assess --cancel--> canceled',
      'root_cause_analysis --cancel--> canceled',
      'fix_in_progress --cancel--> canceled',
    ],
  },
  'normal change': {
    w: changeWorkflows.normal,
    allowed: [
      'new --submit--> assess',
      'assess --request_approval--> authorize',
      'authorize --approve--> scheduled',
      'authorize --reject--> canceled',
      'scheduled --implement--> implement',
      'implement --review--> review',
      'review --close--> closed',
      'new --cancel--> canceled',
      'assess --cancel--> canceled',
      'authorize --cancel--> canceled',
      'scheduled --cancel--> canceled',
    ],
  },
  'standard change': {
    w: changeWorkflows.standard,
    allowed: [
      'new --submit--> scheduled',
      'scheduled --implement--> implement',
      'implement --review--> review',
      'review --close--> closed',
      'new --cancel--> canceled',
      'scheduled --cancel--> canceled',
    ],
  },
  'emergency change': {
    w: changeWorkflows.emergency,
    allowed: [
      'new --submit--> authorize',
      'authorize --approve--> scheduled',
      'authorize --reject--> canceled',
      'scheduled --implement--> implement',
      'implement --review--> review',
      'review --close--> closed',
      'new --cancel--> canceled',
      'authorize --cancel--> canceled',
      'scheduled --cancel--> canceled',
    ],
  },
  'known error': {
    w: knownErrorWorkflow,
    allowed: [
      'draft --publish--> published',
      'retired --publish--> published',
      'draft --retire--> retired',
      'published --retire--> retired',
    ],
  },
  asset: {
    w: assetWorkflow,
    allowed: [
      'on_order --receive--> in_stock',
      'in_stock --deploy--> in_use',
      'in_use --service--> in_maintenance',
      'in_maintenance --return_to_use--> in_use',
      'in_use --stock--> in_stock',
      'in_stock --retire--> retired',
      'in_use --retire--> retired',
      'in_maintenance --retire--> retired',
    ],
  },
};

describe.each(Object.entries(expected))('the %s workflow', (_, { w, allowed }) => {
  const table = new Map(
    allowed.map((line) => {
      const [, from, action, to] = /^(\S+) --(\S+)--> (\S+)$/.exec(line)!;
      return [`${from} ${action}`, to!];
    }),
  );
  const pairs = w.states.flatMap((state) =>
    Object.keys(w.actions).map((action) => [state, action] as const),
  );

  it.each(pairs)('from %s, %s', (state, action) => {
    const to = table.get(`${state} ${action}`);
    const result = step(w, state, action);
    if (to === undefined) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.allowed).toEqual(allowedActions(w, state));
      expect(allowedActions(w, state)).not.toContain(action);
    } else {
      expect(result).toEqual({ ok: true, to });
      expect(allowedActions(w, state)).toContain(action);
    }
  });

  it('refuses an action it does not know', () => {
    expect(step(w, w.initial, 'teleport').ok).toBe(false);
    expect(step(w, w.initial, 'constructor').ok).toBe(false);
  });

  it('gives every state a category, and lists only its own states', () => {
    for (const state of w.states) expect(w.category[state]).toBeDefined();
    for (const action of Object.values(w.actions)) {
      for (const from of action.from) expect(w.states).toContain(from);
      expect(w.states).toContain(action.to);
    }
  });
});
