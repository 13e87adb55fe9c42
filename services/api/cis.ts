import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
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
  unknownClasses,
  updateCi,
  type CiValues,
} from '../store/cmdb.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import { enqueueOutbox } from '../store/outbox.ts';
import { listAudit, setActor } from '../store/tickets.ts';
import { listQueryShape, parseFields, parseFilter, parseSort, project } from './list-query.ts';
import { checkIfMatch, etagOf } from './tickets.ts';
import { pageQuery, parseId, parseJsonBody, parseQuery } from './validate.ts';

const criticalityNames: Record<string, number> = { critical: 1, high: 2, medium: 3, low: 4 };

/** A CI's criticality: 1 (critical) to 4 (low), or its name (`critical`, `high`, `medium`, `low`). */
export const criticality = z.unknown().transform((value, ctx) => {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4)
    return value;
  if (typeof value === 'string' && Object.hasOwn(criticalityNames, value))
    return criticalityNames[value]!;
  ctx.addIssue({
    code: 'custom',
    message: `"${String(value)}" is not a criticality: 1–4 or critical, high, medium, low`,
  });
  return z.NEVER;
});

const text = (max: number) => z.string().trim().min(1).max(max);

/** The CI class name syntax: lower case, digits and underscores. */
export const className = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'a class name: lower case letters, digits and _');

/** The fields of a CI that an import or a PATCH may set, each optional (absent: kept). */
export const ciValueShape = {
  class: className.optional(),
  description: z.string().max(65536).nullable().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
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
  direction: z.enum(['upstream', 'downstream']).default('downstream'),
  depth: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(10))
    .default(3),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(2000))
    .default(500),
};

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
    parseQuery(c, {});
    return c.json({ items: await listCiClasses(pool), nextCursor: null });
  });

  app.get('/cis', read, async (c) => {
    const query = parseQuery(c, { ...listQueryShape, class: className.optional() });
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
    const body: CiValues = await parseJsonBody(c, ciUpdate);
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
    const query = parseQuery(c, pageQuery);
    await load(id);
    return c.json(await listAudit(pool, 'ci', id, query.limit, query.cursor ?? null, ciFields));
  });

  app.get('/cis/:id/impact', read, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    const query = parseQuery(c, impactQuery);
    const impact = await ciImpact(pool, id, query.direction, query.depth, query.limit);
    if (!impact) throw notFound(`No CI ${id}.`);
    return c.json({ direction: query.direction, depth: query.depth, ...impact });
  });

  app.get('/cis/:id/context', read, async (c) => {
    const id = parseId(c.req.param('id'), 'CI');
    parseQuery(c, {});
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
