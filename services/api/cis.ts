import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { invalid, notFound, pointer } from '../../runtime/problem.ts';
import {
  ciContext,
  ciFields,
  ciImpact,
  classAndDescendants,
  environments,
  getCi,
  lifecycleStatuses,
  listCiClasses,
  listCis,
  operationalStatuses,
  relationshipTypes,
  unknownClasses,
  updateCi,
  type CiValues,
} from '../store/cmdb.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import { listAudit, setActor } from '../store/tickets.ts';
import { listQueryShape, parseFields, parseFilter, parseSort, project } from './list-query.ts';
import { historyRoute, timestamp } from './responses.ts';
import { checkIfMatch, etagOf } from './tickets.ts';
import {
  findInJson,
  parseId,
  parseJsonBody,
  parseQuery,
  recordId,
  type JsonProblem,
} from './validate.ts';

const criticalityNames: Record<string, number> = { critical: 1, high: 2, medium: 3, low: 4 };

/** A CI's criticality: 1 (critical) to 4 (low), or its name (`critical`, `high`, `medium`, `low`). */
export const criticality = z
  .unknown()
  .transform((value, ctx) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4)
      return value;
    if (typeof value === 'string' && Object.hasOwn(criticalityNames, value))
      return criticalityNames[value]!;
    ctx.addIssue({
      code: 'custom',
      message: `"${String(value)}" is not a criticality: 1–4 or critical, high, medium, low`,
    });
    return z.NEVER;
  })
  .meta({ description: '1 (critical) to 4 (low), or `critical`, `high`, `medium`, `low`.' });

const text = (max: number) => z.string().trim().min(1).max(max);

/** The CI class name syntax: lower case, digits and underscores. */
export const className = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a class name: lower case letters, digits and _');

// Search indexes attributes as one flattened field, which takes at most 20 levels of nesting and
// keys whose path fits one index term; PostgreSQL's jsonb runs out of stack a few thousand levels
// down. Refused here, by name: stored, they answered 500 (too deep for jsonb), or were stored and
// then refused by Elasticsearch at every try, which stalled the whole search projection.
const ATTRIBUTE_DEPTH = 20;
const ATTRIBUTE_KEY = 255;

/** Where a CI's attributes go beyond what the stores take, if anywhere: a path and why. */
function attributeProblem(attributes: Record<string, unknown>): JsonProblem | null {
  return findInJson(attributes, {
    value: (value, depth) =>
      value !== null && typeof value === 'object' && depth > ATTRIBUTE_DEPTH
        ? `attributes nest at most ${ATTRIBUTE_DEPTH} levels deep`
        : null,
    key: (key) =>
      key.length > ATTRIBUTE_KEY
        ? { detail: `an attribute key has at most ${ATTRIBUTE_KEY} characters`, at: 'object' }
        : null,
  });
}

/** A CI's attributes: free JSON, within the nesting and key length the stores take. */
const attributes = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = attributeProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.detail });
});

/** The fields of a CI that an import or a PATCH may set, each optional (absent: kept). */
export const ciValueShape = {
  class: className.optional(),
  description: z.string().max(65536).nullable().optional(),
  attributes: attributes.optional(),
  lifecycleStatus: z.enum(lifecycleStatuses).optional(),
  operationalStatus: z.enum(operationalStatuses).optional(),
  environment: z.enum(environments).nullable().optional(),
  criticality: criticality.optional(),
  supportGroup: text(255).nullable().optional(),
  owner: text(255).nullable().optional(),
};

const ciUpdate = z
  .strictObject(ciValueShape)
  .refine((v) => Object.keys(v).length > 0, 'change at least one field');

const impactQuery = {
  direction: z.enum(['upstream', 'downstream']).default('downstream').meta({
    description:
      '`downstream` (default): what a failure of the CI impacts; `upstream`: what the CI needs.',
  }),
  depth: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(10))
    .default(3)
    .meta({ description: 'Relationships to follow, 1–10 (default 3).' }),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(2000))
    .default(500)
    .meta({ description: 'Most nodes to return, 1–2000 (default 500).' }),
};

const ci = z
  .looseObject({
    id: recordId,
    name: z.string(),
    class: z.string(),
    description: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    lifecycleStatus: z.enum(lifecycleStatuses),
    operationalStatus: z.enum(operationalStatuses),
    environment: z.enum(environments).nullable(),
    criticality: z.number().int().min(1).max(4),
    supportGroup: z.string().nullable(),
    owner: z.string().nullable(),
    version: z.number().int().meta({ description: 'Bumped by every write; the `ETag`.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ title: 'ConfigurationItem' });
const oneCi = {
  status: 200,
  description: 'The CI.',
  schema: ci,
  headers: ['ETag'],
} satisfies RouteDoc['response'];
const ciRef = z.object({ id: recordId, name: z.string(), class: z.string() });
const record = z.looseObject({ id: recordId });

/** The CI routes as the API document describes them; the handlers validate with these. */
export const ciRoutes = {
  classes: {
    method: 'get',
    path: '/api/v1/ci-classes',
    tag: 'CMDB',
    summary: 'The CI class tree',
    role: 'viewer',
    query: {},
    response: {
      status: 200,
      description: 'Every class with its parent and its path from the root, on one page.',
      schema: pageOf(
        z.object({
          name: z.string(),
          parent: z.string().nullable(),
          description: z.string(),
          path: z.array(z.string()),
        }),
      ),
    },
    errors: [503],
  },
  list: {
    method: 'get',
    path: '/api/v1/cis',
    tag: 'CMDB',
    summary: 'List configuration items',
    description: 'Filtered, sorted and paged; `q` searches name and description.',
    role: 'viewer',
    query: {
      ...listQueryShape,
      class: className.optional().meta({ description: 'This class and its subclasses.' }),
    },
    response: {
      status: 200,
      description: 'A page of CIs, with the fields asked for.',
      schema: pageOf(ci.partial()),
    },
    errors: [503],
  },
  read: {
    method: 'get',
    path: '/api/v1/cis/{id}',
    tag: 'CMDB',
    summary: 'One configuration item',
    role: 'viewer',
    response: oneCi,
    errors: [404, 503],
  },
  update: {
    method: 'patch',
    path: '/api/v1/cis/{id}',
    tag: 'CMDB',
    summary: 'Edit a configuration item',
    description: 'The name is its key and is not edited; an unknown class is a 400.',
    role: 'admin',
    headers: ['If-Match'],
    body: ciUpdate,
    response: oneCi,
    errors: [404, 412, 503],
  },
  history: historyRoute('/api/v1/cis', 'CMDB', 'CI', 'viewer'),
  impact: {
    method: 'get',
    path: '/api/v1/cis/{id}/impact',
    tag: 'CMDB',
    summary: 'What a failure of a CI impacts, or what it needs',
    role: 'viewer',
    query: impactQuery,
    response: {
      status: 200,
      description: 'The CIs reached (nearest first) and the relationships between them.',
      schema: z.object({
        direction: z.enum(['upstream', 'downstream']),
        depth: z.number().int(),
        nodes: z.array(z.looseObject({ id: recordId, name: z.string(), depth: z.number().int() })),
        edges: z.array(
          z.object({
            id: recordId,
            source: z.string(),
            target: z.string(),
            type: z.enum(relationshipTypes),
          }),
        ),
        truncated: z.boolean().meta({ description: 'Whether `limit` cut the walk.' }),
      }),
    },
    errors: [404, 503],
  },
  context: {
    method: 'get',
    path: '/api/v1/cis/{id}/context',
    tag: 'CMDB',
    summary: 'What is going on around a CI',
    description: 'Its firing alerts, open incidents, and changes of the last 7 days.',
    role: 'viewer',
    query: {},
    response: {
      status: 200,
      description: 'The CI and its context.',
      schema: z.object({
        ci: ciRef,
        changesSince: timestamp,
        alerts: z.array(record),
        incidents: z.array(record),
        changes: z.array(record),
      }),
    },
    errors: [404, 503],
  },
} satisfies Record<string, RouteDoc>;

/** How far back a CI's context looks for changes. */
const CONTEXT_DAYS = 7;

/**
 * Configuration items: `/cis` (list with filter, q, sort, fields, `class` with its subclasses),
 * `/cis/{id}` (read with ETag, PATCH with If-Match; audited), its history, its impact graph
 * (`direction`, `depth`, `limit` on nodes) and its context (firing alerts, open incidents,
 * changes of the last 7 days); `/ci-classes`, the class tree. Reads need `viewer`, writes `admin`.
 */
export function cisApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const read = requireRole(authenticate, 'viewer');
  const write = requireRole(authenticate, 'admin');

  const load = async (id: string) => {
    const ci = await getCi(pool, id);
    if (!ci) throw notFound(`No CI ${id}.`);
    return ci;
  };

  app.get('/ci-classes', read, async (c) => {
    parseQuery(c, ciRoutes.classes.query);
    return c.json({ items: await listCiClasses(pool), nextCursor: null });
  });

  app.get('/cis', read, async (c) => {
    const query = parseQuery(c, ciRoutes.list.query);
    const predicates = parseFilter('ci', ciFields, query.filter);
    if (query.class) {
      const classes = await classAndDescendants(pool, query.class);
      if (classes.length === 0)
        throw invalid([
          { pointer: pointer(['query', 'class']), detail: `unknown class "${query.class}"` },
        ]);
      predicates.push({ field: 'class', op: '=', values: classes });
    }
    const fields = parseFields(ciFields, query.fields);
    const page = await listCis(pool, {
      predicates,
      q: query.q || null,
      sort: parseSort('ci', ciFields, query.sort),
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    return c.json({
      items: page.items.map((ci) => project(ci, fields)),
      nextCursor: page.nextCursor,
    });
  });

  app.get('/cis/:id', read, async (c) => {
    const ci = await load(parseId(c.req.param('id'), 'CI'));
    c.header('ETag', etagOf(ci.version));
    return c.json(ci);
  });

  app.patch('/cis/:id', write, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    const body: CiValues = await parseJsonBody(c, ciRoutes.update.body);
    if (body.class !== undefined && (await unknownClasses(pool, [body.class])).length > 0)
      throw invalid([{ pointer: '/class', detail: `unknown class "${body.class}"` }]);
    const ci = await withTransaction(pool, async (tx) => {
      const current = await getCi(tx, id, true);
      if (!current) throw notFound(`No CI ${id}.`);
      checkIfMatch(c, current.version);
      await setActor(tx, c.get('principal').name);
      const updated = await updateCi(tx, id, body);
      await enqueueOutbox(tx, 'ci', [id]);
      return updated;
    });
    c.header('ETag', etagOf(ci.version));
    return c.json(ci);
  });

  app.get('/cis/:id/history', read, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    const query = parseQuery(c, ciRoutes.history.query);
    await load(id);
    return c.json(await listAudit(pool, 'ci', id, query.limit, query.cursor ?? null, ciFields));
  });

  app.get('/cis/:id/impact', read, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    const query = parseQuery(c, ciRoutes.impact.query);
    const impact = await ciImpact(pool, id, query.direction, query.depth, query.limit);
    if (!impact) throw notFound(`No CI ${id}.`);
    return c.json({ direction: query.direction, depth: query.depth, ...impact });
  });

  app.get('/cis/:id/context', read, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    parseQuery(c, ciRoutes.context.query);
    const ci = await load(id);
    const now = new Date();
    const since = new Date(now.getTime() - CONTEXT_DAYS * 86_400_000);
    const context = await ciContext(pool, ci.name, since, now);
    return c.json({
      ci: { id: ci.id, name: ci.name, class: ci.class },
      changesSince: since.toISOString(),
      ...context,
    });
  });

  return app;
}
