/**
 * The state machines of the ticket records (incidents, problems, changes) and of assets: which
 * action moves a record from which state to which. The API answers a forbidden action with 409
 * and the allowed ones; the correlator uses the same machines, so no writer can bypass them.
 */

/** Where a state stands across record types, for cross-type facets and lists. */
export type StateCategory = 'open' | 'resolved' | 'closed' | 'canceled';

/** One action: the states it leaves from and the state it leads to. */
export type Action<S extends string> = { from: readonly S[]; to: S };

/** A state machine: its states, their categories, its actions and where a new ticket starts. */
export type Workflow<S extends string, A extends string> = {
  states: readonly S[];
  initial: S;
  category: Record<S, StateCategory>;
  actions: Record<A, Action<S>>;
};

function workflow<const S extends string, const A extends string>(
  w: Workflow<S, A>,
): Workflow<S, A> {
  return w;
}

const incidentOpen = ['new', 'in_progress', 'on_hold'] as const;

/** Incidents: new → in_progress → on_hold → resolved → closed, or canceled. */
export const incidentWorkflow = workflow({
  states: ['new', 'in_progress', 'on_hold', 'resolved', 'closed', 'canceled'],
  initial: 'new',
  category: {
    new: 'open',
    in_progress: 'open',
    on_hold: 'open',
    resolved: 'resolved',
    closed: 'closed',
    canceled: 'canceled',
  },
  actions: {
    acknowledge: { from: ['new'], to: 'in_progress' },
    hold: { from: ['new', 'in_progress'], to: 'on_hold' },
    resume: { from: ['on_hold'], to: 'in_progress' },
    resolve: { from: incidentOpen, to: 'resolved' },
    reopen: { from: ['resolved'], to: 'in_progress' },
    close: { from: ['resolved'], to: 'closed' },
    cancel: { from: incidentOpen, to: 'canceled' },
  },
});

const problemWorking = ['new', 'assess', 'root_cause_analysis', 'fix_in_progress'] as const;

/**
 * Problems: new → assess → root_cause_analysis → fix_in_progress → resolved → closed, and the
 * `candidate` state in which the correlator proposes one for a problem manager to accept or reject.
 */
export const problemWorkflow = workflow({
  states: [
    'candidate',
    'new',
    'assess',
    'root_cause_analysis',
    'fix_in_progress',
    'resolved',
    'closed',
    'rejected',
    'canceled',
  ],
  initial: 'new',
  category: {
    candidate: 'open',
    new: 'open',
    assess: 'open',
    root_cause_analysis: 'open',
    fix_in_progress: 'open',
    resolved: 'resolved',
    closed: 'closed',
    rejected: 'canceled',
    canceled: 'canceled',
  },
  actions: {
    accept: { from: ['candidate'], to: 'new' },
    reject: { from: ['candidate'], to: 'rejected' },
    assess: { from: ['new'], to: 'assess' },
    analyze: { from: ['assess'], to: 'root_cause_analysis' },
    fix: { from: ['root_cause_analysis'], to: 'fix_in_progress' },
    resolve: { from: ['root_cause_analysis', 'fix_in_progress'], to: 'resolved' },
    reopen: { from: ['resolved'], to: 'root_cause_analysis' },
    close: { from: ['resolved'], to: 'closed' },
    cancel: { from: problemWorking, to: 'canceled' },
  },
});

const changeStates = [
  'new',
  'assess',
  'authorize',
  'scheduled',
  'implement',
  'review',
  'closed',
  'canceled',
] as const;
const changeCategory = {
  new: 'open',
  assess: 'open',
  authorize: 'open',
  scheduled: 'open',
  implement: 'open',
  review: 'resolved',
  closed: 'closed',
  canceled: 'canceled',
} as const;
const changeApproval = {
  // `approve` leaves authorize for scheduled once the last required approval is given.
  approve: { from: ['authorize'], to: 'scheduled' },
  reject: { from: ['authorize'], to: 'canceled' },
} as const;
const changeTail = {
  implement: { from: ['scheduled'], to: 'implement' },
  review: { from: ['implement'], to: 'review' },
  close: { from: ['review'], to: 'closed' },
} as const;

/** Normal changes: new → assess → authorize → scheduled → implement → review → closed. */
const normalChange = workflow({
  states: changeStates,
  initial: 'new',
  category: changeCategory,
  actions: {
    submit: { from: ['new'], to: 'assess' },
    request_approval: { from: ['assess'], to: 'authorize' },
    ...changeApproval,
    ...changeTail,
    cancel: { from: ['new', 'assess', 'authorize', 'scheduled'], to: 'canceled' },
  },
});

/** Standard (pre-approved) changes skip assess and authorize. */
const standardChange = workflow({
  states: changeStates,
  initial: 'new',
  category: changeCategory,
  actions: {
    submit: { from: ['new'], to: 'scheduled' },
    ...changeTail,
    cancel: { from: ['new', 'scheduled'], to: 'canceled' },
  },
});

/** Emergency changes skip assess: they go straight to authorization. */
const emergencyChange = workflow({
  states: changeStates,
  initial: 'new',
  category: changeCategory,
  actions: {
    submit: { from: ['new'], to: 'authorize' },
    ...changeApproval,
    ...changeTail,
    cancel: { from: ['new', 'authorize', 'scheduled'], to: 'canceled' },
  },
});

/** Change types. */
export const changeTypes = ['standard', 'normal', 'emergency'] as const;
/** One change type. */
export type ChangeType = (typeof changeTypes)[number];

/** Each change type's flow. */
export const changeWorkflows = {
  normal: normalChange,
  standard: standardChange,
  emergency: emergencyChange,
} as const;

/**
 * Assets: on_order → in_stock → in_use, to maintenance and back, back to stock, and retired from
 * stock, use or maintenance.
 */
export const assetWorkflow = workflow({
  states: ['on_order', 'in_stock', 'in_use', 'in_maintenance', 'retired'],
  initial: 'on_order',
  category: {
    on_order: 'open',
    in_stock: 'open',
    in_use: 'open',
    in_maintenance: 'open',
    retired: 'closed',
  },
  actions: {
    receive: { from: ['on_order'], to: 'in_stock' },
    deploy: { from: ['in_stock'], to: 'in_use' },
    service: { from: ['in_use'], to: 'in_maintenance' },
    return_to_use: { from: ['in_maintenance'], to: 'in_use' },
    stock: { from: ['in_use'], to: 'in_stock' },
    retire: { from: ['in_stock', 'in_use', 'in_maintenance'], to: 'retired' },
  },
});

/** Known errors: drafted, published for the NOC to use, retired when fixed for good. */
export const knownErrorWorkflow = workflow({
  states: ['draft', 'published', 'retired'],
  initial: 'draft',
  category: { draft: 'open', published: 'open', retired: 'closed' },
  actions: {
    publish: { from: ['draft', 'retired'], to: 'published' },
    retire: { from: ['draft', 'published'], to: 'retired' },
  },
});

/** An incident state. */
export type IncidentState = (typeof incidentWorkflow.states)[number];
/** A problem state. */
export type ProblemState = (typeof problemWorkflow.states)[number];
/** A change state. */
export type ChangeState = (typeof changeStates)[number];
/** An asset state. */
export type AssetState = (typeof assetWorkflow.states)[number];
/** A known error's state. */
export type KnownErrorState = (typeof knownErrorWorkflow.states)[number];

type AnyWorkflow = Workflow<string, string>;

/** What an action does to a ticket in a state: the state it leads to, or the allowed actions. */
export type Step = { ok: true; to: string } | { ok: false; allowed: string[] };

/** Applies an action to a state under a workflow, without side effects. */
export function step(w: AnyWorkflow, state: string, action: string): Step {
  const found = Object.hasOwn(w.actions, action) ? w.actions[action] : undefined;
  if (found && found.from.includes(state)) return { ok: true, to: found.to };
  return { ok: false, allowed: allowedActions(w, state) };
}

/** The actions allowed in a state, in the workflow's order. */
export function allowedActions(w: AnyWorkflow, state: string): string[] {
  return Object.entries(w.actions)
    .filter(([, a]) => a.from.includes(state))
    .map(([name]) => name);
}

/** Priority 1 (critical) … 5 (planning) by impact (rows) and urgency (columns), each 1–3. */
export type PriorityMatrix = readonly (readonly number[])[];

/** The usual ITIL matrix: impact 1 and urgency 1 is priority 1, impact 3 and urgency 3 is 5. */
export const defaultPriorityMatrix: PriorityMatrix = [
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5],
];

/** The priority an impact and an urgency (1–3 each) give under a matrix. */
export function matrixPriority(matrix: PriorityMatrix, impact: number, urgency: number): number {
  return matrix[impact - 1]?.[urgency - 1] ?? 3;
}
