import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate, type Role } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound, ProblemError } from '../../runtime/problem.ts';
import { withTransaction, type Pool, type Queryable } from '../store/db.ts';
import {
  getRecord,
  insertRecord,
  listRecords,
  lockRecord,
  updateRecord,
  type RecordStore,
  type StoredRecord,
} from '../store/records.ts';
import { listAudit, setActor } from '../store/tickets.ts';
import { allowedActions, step, type Workflow } from '../store/workflows.ts';
import { listQueryShape, parseFields, parseFilter, parseSort, project } from './list-query.ts';
import { aOrAn, capitalize, historyRoute, timestamp } from './responses.ts';
import { checkIfMatch, etagOf } from './tickets.ts';
import { parseId, parseJsonBody, parseQuery, recordId } from './validate.ts';

/** How one registry-kept record type (an asset, a service) plugs into the shared record API. */
export type RecordSpec<R extends StoredRecord> = {
  store: RecordStore<R>;
  /** Its path segment under /api/v1 (`assets`). */
  path: string;
  /** The role that creates, edits and moves this type (admin always may). */
  writeRole: Role;
  /** The create body, validated and turned into API-named values. */
  createSchema: z.ZodType<Record<string, unknown>>;
  /** The PATCH body: the editable fields, each optional. */
  updateSchema: z.ZodType<Record<string, unknown>>;
  /** Its state machine, when it has one: then `transitions/{action}` is served. */
  workflow?: Workflow<string, string>;
  /** Fields served that are derived, not stored (`stateCategory`): `fields` may name them. */
  computed?: readonly string[];
  /** Related facts served with one record (a service's entry-point CIs, say). */
  decorate?(q: Queryable, record: R): Promise<Record<string, unknown>>;
};

// A transition moves the state only; what else changes is a PATCH of its own, audited as such.
const transitionBody = z.strictObject({});

/**
 * The shared routes of a record type as the API document describes them. `recordApi` validates
 * with these very schemas, so the document and the checks cannot drift apart.
 */
export function recordRoutes<R extends StoredRecord>(spec: RecordSpec<R>) {
  const { workflow, writeRole } = spec;
  const what = spec.store.type.replaceAll('_', ' ');
  const base = `/api/v1/${spec.path}`;
  const tag = capitalize(spec.path.replaceAll('-', ' '));
  const record = z
    .looseObject({
      id: recordId,
      ...(workflow
        ? { state: z.enum(workflow.states as [string, ...string[]]), stateCategory: z.string() }
        : {}),
      version: z.number().int().meta({ description: 'Bumped by every write; the `ETag`.' }),
      createdAt: timestamp,
      updatedAt: timestamp,
    })
    .meta({
      title: capitalize(what),
      description: `The ${what}'s fields as the create body names them, and these.`,
    });
  const served = workflow
    ? record.extend({
        allowedActions: z
          .array(z.string())
          .meta({ description: 'The actions its current state allows.' }),
      })
    : record;
  const one = {
    status: 200,
    description: `The ${what}.`,
    schema: served,
    headers: ['ETag'],
  } satisfies RouteDoc['response'];
  const routes = {
    list: {
      method: 'get',
      path: base,
      tag,
      summary: `List ${spec.path.replaceAll('-', ' ')}`,
      description: 'Filtered, sorted and paged; `fields` picks the fields of each item.',
      role: 'viewer',
      query: listQueryShape,
      response: {
        status: 200,
        description: `A page of ${spec.path.replaceAll('-', ' ')}, with the fields asked for.`,
        schema: pageOf(record.partial()),
      },
      errors: [503],
    },
    create: {
      method: 'post',
      path: base,
      tag,
      summary: `Register ${aOrAn(what)}`,
      role: writeRole,
      body: spec.createSchema,
      response: {
        ...one,
        status: 201,
        description: `The new ${what}.`,
        headers: ['ETag', 'Location'],
      },
      errors: [[409, 'Its key (a tag, a name) is taken by another record.'], 503],
    },
    read: {
      method: 'get',
      path: `${base}/{id}`,
      tag,
      summary: `One ${what}`,
      role: 'viewer',
      response: one,
      errors: [404, 503],
    },
    update: {
      method: 'patch',
      path: `${base}/{id}`,
      tag,
      summary: `Edit ${aOrAn(what)}`,
      description: workflow ? 'Only the fields given change; never the state.' : undefined,
      role: writeRole,
      headers: ['If-Match'],
      body: spec.updateSchema,
      response: one,
      errors: [404, [409, 'Its key (a tag, a name) is taken by another record.'], 412, 503],
    },
    history: historyRoute(base, tag, what, 'viewer'),
  } satisfies Record<string, RouteDoc>;
  const transition = workflow
    ? ({
        method: 'post',
        path: `${base}/{id}/transitions/{action}`,
        tag,
        summary: `Move ${aOrAn(what)} through its workflow`,
        role: writeRole,
        params: {
          action: z.enum(Object.keys(workflow.actions) as [string, ...string[]]).meta({
            description:
              'An action of the workflow; `allowedActions` lists those the state allows.',
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
          503,
        ],
      } satisfies RouteDoc)
    : null;
  return { ...routes, transition };
}

/**
 * The shared routes of a record type kept by a field registry: list (filter, q, sort, fields,
 * cursor), create, read (with ETag), PATCH (If-Match; 412 on a lost update), transitions when it
 * has a workflow (409 with the allowed actions), and the audit history. Reads need `viewer`;
 * writes the type's role. Every write is audited and reaches search through the outbox.
 */
export function recordApi<R extends StoredRecord>(
  spec: RecordSpec<R>,
  deps: { pool: Pool; authenticate: Authenticate },
): Hono<AuthEnv> {
  const { pool, authenticate } = deps;
  const { store, workflow } = spec;
  const what = store.type;
  const routes = recordRoutes(spec);
  const read = requireRole(authenticate, 'viewer');
  const write = requireRole(authenticate, spec.writeRole);
  const app = new Hono<AuthEnv>();

  const render = async (q: Queryable, record: R) => ({
    ...record,
    ...(await spec.decorate?.(q, record)),
    ...(workflow ? { allowedActions: allowedActions(workflow, String(record.state)) } : {}),
  });

  const load = async (id: string) => {
    const record = await getRecord(pool, store, id);
    if (!record) throw notFound(`No ${what} ${id}.`);
    return record;
  };

  app.get('/', read, async (c) => {
    const query = parseQuery(c, routes.list.query);
    const predicates = parseFilter(what, store.fields, query.filter);
    const fields = parseFields(store.fields, query.fields, spec.computed);
    const page = await listRecords(pool, store, {
      predicates,
      q: query.q || null,
      sort: parseSort(what, store.fields, query.sort),
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    return c.json({
      items: page.items.map((r) => project(r, fields)),
      nextCursor: page.nextCursor,
    });
  });

  app.post('/', write, async (c) => {
    const body = await parseJsonBody(c, routes.create.body);
    const record = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'create');
      return insertRecord(tx, store, body);
    });
    c.header('Location', `/api/v1/${spec.path}/${record.id}`);
    c.header('ETag', etagOf(record.version));
    return c.json(await render(pool, record), 201);
  });

  app.get('/:id', read, async (c) => {
    const record = await load(parseId(c.req.param('id'), what));
    c.header('ETag', etagOf(record.version));
    return c.json(await render(pool, record));
  });

  app.patch('/:id', write, async (c) => {
    const id = parseId(c.req.param('id'), what);
    const body = await parseJsonBody(c, routes.update.body);
    const record = await withTransaction(pool, async (tx) => {
      const current = await lockRecord(tx, store, id);
      if (!current) throw notFound(`No ${what} ${id}.`);
      checkIfMatch(c, current.version);
      await setActor(tx, c.get('principal').name, null);
      return updateRecord(tx, store, id, body);
    });
    c.header('ETag', etagOf(record.version));
    return c.json(await render(pool, record));
  });

  if (workflow) {
    app.post('/:id/transitions/:action', write, async (c) => {
      const id = parseId(c.req.param('id'), what);
      const action = c.req.param('action');
      const hasBody =
        (c.req.header('Content-Length') ?? '0') !== '0' || c.req.header('Content-Type');
      if (hasBody) await parseJsonBody(c, transitionBody);
      const record = await withTransaction(pool, async (tx) => {
        const current = await lockRecord(tx, store, id);
        if (!current) throw notFound(`No ${what} ${id}.`);
        checkIfMatch(c, current.version);
        const state = String(current.state);
        const next = step(workflow, state, action);
        if (!next.ok) {
          throw new ProblemError(
            409,
            'transition-not-allowed',
            'Transition not allowed',
            `The ${what} is "${state}" and cannot "${action}"; allowed: ${next.allowed.join(', ') || 'none'}.`,
            { state, allowed: next.allowed },
          );
        }
        await setActor(tx, c.get('principal').name, action);
        return updateRecord(tx, store, id, { state: next.to });
      });
      c.header('ETag', etagOf(record.version));
      return c.json(await render(pool, record));
    });
  }

  app.get('/:id/history', read, async (c) => {
    const id = parseId(c.req.param('id'), what);
    const query = parseQuery(c, routes.history.query);
    await load(id);
    return c.json(await listAudit(pool, what, id, query.limit, query.cursor ?? null, store.fields));
  });

  return app;
}
