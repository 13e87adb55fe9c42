import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate, type Role } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound, ProblemError } from '../../runtime/problem.ts';
import { withTransaction, type Pool, type Queryable } from '../store/db.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import {
  addJournalEntry,
  getTicket,
  insertTicket,
  listAudit,
  listJournal,
  listTickets,
  lockTicket,
  setActor,
  ticketFields,
  updateTicket,
  type Ticket,
  type TicketKind,
} from '../store/tickets.ts';
import {
  allowedActions,
  step,
  matrixPriority,
  type PriorityMatrix,
  type StateCategory,
  type Workflow,
} from '../store/workflows.ts';
import { listQueryShape, parseFields, parseFilter, parseSort, project } from './list-query.ts';
import { aOrAn, capitalize, historyRoute, timestamp } from './responses.ts';
import { parseId, parseJsonBody, parseQuery, recordId } from './validate.ts';

/** How one ticket type plugs into the shared ticket API. */
export type TicketSpec = {
  kind: TicketKind;
  /** The role that creates, edits and moves this type (admin always may). */
  writeRole: Role;
  /** The create body; impact, urgency, title and description are added by the API. */
  createShape: z.ZodRawShape;
  /** The PATCH body: the editable fields, each optional. */
  updateShape: z.ZodRawShape;
  /** The workflow a ticket follows (a change's depends on its type). */
  workflowOf(ticket: Pick<Ticket, 'state'> & Record<string, unknown>): Workflow<string, string>;
  /** Every workflow a ticket of this type may follow: the API document lists their actions. */
  workflows?: readonly Workflow<string, string>[];
  /** Values a creation adds beyond the body (its initial state, say). */
  onCreate?(body: Record<string, unknown>): Record<string, unknown>;
  /**
   * What an action writes besides the state, or a 422 detail when the body lacks what it needs;
   * may also keep the state (a change awaiting further approvals).
   */
  onTransition(input: TransitionInput): Promise<TransitionEffect>;
  /** Related facts served with a ticket (a change's approvals and overlap warnings, say). */
  decorate?(q: Queryable, ticket: Ticket): Promise<Record<string, unknown>>;
  /** Runs in the writer's transaction after every create, edit and transition (SLA timers). */
  afterWrite?(q: Queryable, ticket: Ticket, now: Date): Promise<void>;
};

/** The body a transition may carry. */
export const transitionBody = z.strictObject({
  resolutionCode: z.string().trim().min(1).max(64).optional(),
  resolutionNotes: z.string().max(65536).optional(),
  reason: z.string().trim().min(1).max(4096).optional(),
  comment: z.string().max(65536).optional(),
});

/** What a transition hook is told. */
export type TransitionInput = {
  q: Queryable;
  ticket: Ticket;
  action: string;
  to: string;
  body: z.output<typeof transitionBody>;
  actor: string;
  now: string;
};

/** What a transition writes: the values, or a 422 saying what is missing. */
export type TransitionEffect =
  | { ok: true; values: Record<string, unknown>; keepState?: boolean }
  | { ok: false; detail: string; pointer: string };

const text = (max: number) => z.string().trim().min(1).max(max);
const level = z.number().int().min(1).max(3);

/** Fields every ticket type takes on create and PATCH. */
export const baseCreateShape = {
  title: text(1024),
  description: z.string().max(65536).nullish(),
  impact: level.default(2),
  urgency: level.default(2),
  category: text(255).nullish(),
  service: text(255).nullish(),
  primaryCi: text(255).nullish(),
  cis: z.array(text(255)).max(1000).default([]),
  assignmentGroup: text(255).nullish(),
  assignee: text(255).nullish(),
};

/** The PATCH counterpart of baseCreateShape: every field optional, nothing defaulted. */
export const baseUpdateShape = {
  title: text(1024).optional(),
  description: z.string().max(65536).nullable().optional(),
  impact: level.optional(),
  urgency: level.optional(),
  category: text(255).nullable().optional(),
  service: text(255).nullable().optional(),
  primaryCi: text(255).nullable().optional(),
  cis: z.array(text(255)).max(1000).optional(),
  assignmentGroup: text(255).nullable().optional(),
  assignee: text(255).nullable().optional(),
};

/** The strong ETag of a record version. */
export const etagOf = (version: number) => `"${version}"`;

/** Throws 412 when If-Match names another version than the record's (absent: no check). */
export function checkIfMatch(c: Context, version: number): void {
  const header = c.req.header('If-Match');
  if (header === undefined || header.trim() === '*') return;
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!tags.includes(etagOf(version))) {
    throw new ProblemError(
      412,
      'precondition-failed',
      'The record changed since you read it',
      `If-Match ${header} does not match the current version ${etagOf(version)}; read it again.`,
      { currentVersion: version },
    );
  }
}

const journalBody = z.strictObject({
  kind: z.enum(['work_note', 'comment']).default('work_note'),
  body: z.string().trim().min(1).max(65536),
});

const journalEntry = z
  .object({
    id: recordId,
    kind: z.enum(['work_note', 'comment']),
    author: z.string(),
    body: z.string(),
    createdAt: timestamp,
  })
  .meta({ title: 'JournalEntry' });

const stateCategories = [
  'open',
  'resolved',
  'closed',
  'canceled',
] as const satisfies readonly StateCategory[];

/**
 * The shared ticket routes of one type as the API document describes them. `ticketApi` validates
 * with these very schemas, so the document and the checks cannot drift apart.
 */
export function ticketRoutes(spec: TicketSpec) {
  const { kind, writeRole } = spec;
  const base = `/api/v1/${kind}s`;
  const tag = capitalize(`${kind}s`);
  const workflows = spec.workflows ?? [];
  const actions = [...new Set(workflows.flatMap((w) => Object.keys(w.actions)))];
  const states = [...new Set(workflows.flatMap((w) => w.states))];
  const when = timestamp.nullable();
  const ticket = z
    .looseObject({
      id: recordId,
      number: z.string(),
      state: states.length > 0 ? z.enum(states as [string, ...string[]]) : z.string(),
      stateCategory: z.enum(stateCategories),
      priority: z.number().int().min(1).max(5).meta({
        description: 'From impact and urgency (`TOCSIN_PRIORITY_MATRIX`): 1 critical … 5 planning.',
      }),
      ...baseCreateShape,
      ...spec.createShape,
      openedAt: when,
      acknowledgedAt: when,
      resolvedAt: when,
      closedAt: when,
      resolutionCode: z.string().nullable(),
      resolutionNotes: z.string().nullable(),
      reopenCount: z.number().int(),
      createdBy: z.string().nullable(),
      updatedAt: timestamp,
      version: z.number().int().meta({ description: 'Bumped by every write; the `ETag`.' }),
    })
    .meta({ title: capitalize(kind) });
  const served = ticket.extend({
    allowedActions: z
      .array(z.string())
      .meta({ description: 'The actions its current state allows.' }),
  });
  const one = {
    status: 200,
    description: `The ${kind}.`,
    schema: served,
    headers: ['ETag'],
  } satisfies RouteDoc['response'];
  return {
    list: {
      method: 'get',
      path: base,
      tag,
      summary: `List ${kind}s`,
      description: 'Filtered, sorted and paged; `fields` picks the fields of each item.',
      role: 'viewer',
      query: {
        ...listQueryShape,
        state: z
          .string()
          .max(1024)
          .optional()
          .meta({ description: 'States joined by `,` (`new,in_progress`).' }),
      },
      response: {
        status: 200,
        description: `A page of ${kind}s, with the fields asked for.`,
        schema: pageOf(ticket.partial()),
      },
      errors: [503],
    },
    create: {
      method: 'post',
      path: base,
      tag,
      summary: `Open ${aOrAn(kind)}`,
      description: 'Its priority follows from impact and urgency.',
      role: writeRole,
      body: z.strictObject({ ...baseCreateShape, ...spec.createShape }),
      response: {
        ...one,
        status: 201,
        description: `The new ${kind}.`,
        headers: ['ETag', 'Location'],
      },
      errors: [503],
    },
    read: {
      method: 'get',
      path: `${base}/{id}`,
      tag,
      summary: `One ${kind}`,
      role: 'viewer',
      response: one,
      errors: [404, 503],
    },
    update: {
      method: 'patch',
      path: `${base}/{id}`,
      tag,
      summary: `Edit ${aOrAn(kind)}`,
      description: 'Only the fields given change; the state changes through transitions only.',
      role: writeRole,
      headers: ['If-Match'],
      body: z
        .strictObject({ ...baseUpdateShape, ...spec.updateShape })
        .refine((v) => Object.keys(v).length > 0, 'change at least one field'),
      response: one,
      errors: [404, 412, 503],
    },
    transition: {
      method: 'post',
      path: `${base}/{id}/transitions/{action}`,
      tag,
      summary: `Move ${aOrAn(kind)} through its workflow`,
      description: 'A `comment` becomes a work note in the same transaction.',
      role: writeRole,
      params: {
        action: (actions.length > 0 ? z.enum(actions as [string, ...string[]]) : z.string()).meta({
          description: 'An action of the workflow; `allowedActions` lists those the state allows.',
        }),
      },
      headers: ['If-Match'],
      body: transitionBody,
      bodyOptional: true,
      response: one,
      errors: [
        404,
        [409, 'The current state does not allow the action: `allowed` lists those it does.'],
        412,
        [422, 'The action needs input the body lacks: `pointer` names it (`/reason`, say).'],
        503,
      ],
    },
    notes: {
      method: 'get',
      path: `${base}/{id}/notes`,
      tag,
      summary: `The work notes and comments of ${aOrAn(kind)}`,
      role: 'viewer',
      response: {
        status: 200,
        description: 'Every entry, oldest first, on one page.',
        schema: pageOf(journalEntry),
      },
      errors: [404, 503],
    },
    addNote: {
      method: 'post',
      path: `${base}/{id}/notes`,
      tag,
      summary: `Add a work note or comment to ${aOrAn(kind)}`,
      role: writeRole,
      body: journalBody,
      response: { status: 201, description: 'The new entry.', schema: journalEntry },
      errors: [404, 503],
    },
    history: historyRoute(base, tag, kind, 'viewer'),
  } satisfies Record<string, RouteDoc>;
}

/**
 * The shared ticket routes of one type: list (filter, q, sort, fields, cursor), create, read
 * (with ETag), PATCH (If-Match; 412 on a lost update), transitions (409 with the allowed actions),
 * the journal, and the audit history. Reads need `viewer`; writes the type's role.
 */
export function ticketApi(
  spec: TicketSpec,
  deps: { pool: Pool; authenticate: Authenticate; priorityMatrix: PriorityMatrix },
): Hono<AuthEnv> {
  const { pool, authenticate } = deps;
  const { kind } = spec;
  const routes = ticketRoutes(spec);
  const read = requireRole(authenticate, 'viewer');
  const write = requireRole(authenticate, spec.writeRole);
  const app = new Hono<AuthEnv>();

  const render = async (q: Queryable, ticket: Ticket) => ({
    ...ticket,
    ...(await spec.decorate?.(q, ticket)),
    allowedActions: allowedActions(spec.workflowOf(ticket), ticket.state),
  });

  const load = async (id: string) => {
    const ticket = await getTicket(pool, kind, id);
    if (!ticket) throw notFound(`No ${kind} ${id}.`);
    return ticket;
  };

  app.get('/', read, async (c) => {
    const query = parseQuery(c, routes.list.query);
    const predicates = parseFilter(kind, ticketFields[kind], query.filter);
    if (query.state) predicates.push({ field: 'state', op: '=', values: query.state.split(',') });
    const fields = parseFields(ticketFields[kind], query.fields, ['stateCategory']);
    const page = await listTickets(pool, kind, {
      predicates,
      q: query.q || null,
      sort: parseSort(kind, ticketFields[kind], query.sort),
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    return c.json({
      items: page.items.map((t) => project(t, fields)),
      nextCursor: page.nextCursor,
    });
  });

  app.post('/', write, async (c) => {
    const body = (await parseJsonBody(c, routes.create.body)) as Record<string, unknown> & {
      impact: number;
      urgency: number;
    };
    const actor = c.get('principal').name;
    const ticket = await withTransaction(pool, async (tx) => {
      await setActor(tx, actor, 'create');
      const created = await insertTicket(tx, kind, {
        ...body,
        ...spec.onCreate?.(body),
        priority: matrixPriority(deps.priorityMatrix, body.impact, body.urgency),
        createdBy: actor,
      });
      await spec.afterWrite?.(tx, created, new Date());
      await enqueueTicket(tx, kind, created.id);
      return created;
    });
    c.header('Location', `/api/v1/${kind}s/${ticket.id}`);
    c.header('ETag', etagOf(ticket.version));
    return c.json(await render(pool, ticket), 201);
  });

  app.get('/:id', read, async (c) => {
    const ticket = await load(parseId(c.req.param('id'), kind));
    c.header('ETag', etagOf(ticket.version));
    return c.json(await render(pool, ticket));
  });

  app.patch('/:id', write, async (c) => {
    const id = parseId(c.req.param('id'), kind);
    const body = (await parseJsonBody(c, routes.update.body)) as Record<string, unknown>;
    const actor = c.get('principal').name;
    const ticket = await withTransaction(pool, async (tx) => {
      const current = await lockTicket(tx, kind, id);
      if (!current) throw notFound(`No ${kind} ${id}.`);
      checkIfMatch(c, current.version);
      await setActor(tx, actor, null);
      const impact = (body.impact as number | undefined) ?? (current.impact as number);
      const urgency = (body.urgency as number | undefined) ?? (current.urgency as number);
      const updated = await updateTicket(tx, kind, id, {
        ...body,
        priority: matrixPriority(deps.priorityMatrix, impact, urgency),
      });
      await spec.afterWrite?.(tx, updated, new Date());
      await enqueueTicket(tx, kind, id);
      return updated;
    });
    c.header('ETag', etagOf(ticket.version));
    return c.json(await render(pool, ticket));
  });

  app.post('/:id/transitions/:action', write, async (c) => {
    const id = parseId(c.req.param('id'), kind);
    const action = c.req.param('action');
    const hasBody = (c.req.header('Content-Length') ?? '0') !== '0' || c.req.header('Content-Type');
    const body = hasBody ? await parseJsonBody(c, routes.transition.body) : {};
    const actor = c.get('principal').name;
    const ticket = await withTransaction(pool, async (tx) => {
      const current = await lockTicket(tx, kind, id);
      if (!current) throw notFound(`No ${kind} ${id}.`);
      checkIfMatch(c, current.version);
      const workflow = spec.workflowOf(current);
      const next = step(workflow, current.state, action);
      if (!next.ok) {
        throw new ProblemError(
          409,
          'transition-not-allowed',
          'Transition not allowed',
          `A ${kind} in state "${current.state}" cannot "${action}"; allowed: ${next.allowed.join(', ') || 'none'}.`,
          { state: current.state, allowed: next.allowed },
        );
      }
      await setActor(tx, actor, action);
      const effect = await spec.onTransition({
        q: tx,
        ticket: current,
        action,
        to: next.to,
        body,
        actor,
        now: new Date().toISOString(),
      });
      if (!effect.ok) {
        throw new ProblemError(
          422,
          'transition-needs-input',
          'The transition needs more input',
          effect.detail,
          { pointer: effect.pointer },
        );
      }
      const updated = await updateTicket(tx, kind, id, {
        ...effect.values,
        ...(effect.keepState ? {} : { state: next.to }),
      });
      await spec.afterWrite?.(tx, updated, new Date());
      if (body.comment)
        await addJournalEntry(tx, kind, id, {
          kind: 'work_note',
          author: actor,
          body: body.comment,
        });
      await enqueueTicket(tx, kind, id);
      return updated;
    });
    c.header('ETag', etagOf(ticket.version));
    return c.json(await render(pool, ticket));
  });

  app.get('/:id/notes', read, async (c) => {
    const id = parseId(c.req.param('id'), kind);
    await load(id);
    const entries = await listJournal(pool, kind, id);
    return c.json({ items: entries, nextCursor: null });
  });

  app.post('/:id/notes', write, async (c) => {
    const id = parseId(c.req.param('id'), kind);
    const body = await parseJsonBody(c, routes.addNote.body);
    await load(id);
    const entry = await addJournalEntry(pool, kind, id, {
      kind: body.kind,
      author: c.get('principal').name,
      body: body.body,
    });
    return c.json(entry, 201);
  });

  app.get('/:id/history', read, async (c) => {
    const id = parseId(c.req.param('id'), kind);
    const query = parseQuery(c, routes.history.query);
    await load(id);
    return c.json(
      await listAudit(pool, kind, id, query.limit, query.cursor ?? null, ticketFields[kind]),
    );
  });

  return app;
}

/** Notes a ticket's change for the search projection, in the writer's transaction. */
async function enqueueTicket(q: Queryable, kind: TicketKind, id: string): Promise<void> {
  await enqueueOutbox(q, kind, [id]);
}
