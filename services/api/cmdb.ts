import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type AuthEnv, type Authenticate } from '../../runtime/auth.ts';
import type { RouteDoc } from '../../runtime/openapi.ts';
import { invalid, pointer, ProblemError, type FieldError } from '../../runtime/problem.ts';
import { importCmdb, relationshipTypes } from '../store/cmdb.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import { setActor } from '../store/tickets.ts';
import { ciValueShape, className } from './cis.ts';
import { cellError, csvKinds, readCmdbCsv } from './cmdb-csv.ts';
import { parseJsonBody, parseQuery } from './validate.ts';

const name = z.string().trim().min(1).max(255);

const importSchema = z
  .strictObject({
    cis: z
      .array(z.strictObject({ ...ciValueShape, name, class: className }))
      .max(100_000)
      .default([]),
    relationships: z
      .array(z.strictObject({ source: name, target: name, type: z.enum(relationshipTypes) }))
      .max(500_000)
      .default([]),
  })
  .superRefine(
    (body, ctx) => {
      // Runs beside the field errors (see `when`) so that one answer lists every problem: an
      // item may be invalid here, so its fields are checked before use.
      const seen = new Set<string>();
      (body.cis as { name?: unknown }[]).forEach((ci, i) => {
        if (typeof ci?.name !== 'string') return;
        if (seen.has(ci.name))
          ctx.addIssue({
            code: 'custom',
            path: ['cis', i, 'name'],
            message: `duplicate CI name "${ci.name}"`,
          });
        seen.add(ci.name);
      });
      (body.relationships as { source?: unknown; target?: unknown }[]).forEach((r, i) => {
        if (typeof r?.source === 'string' && r.source === r.target) {
          ctx.addIssue({
            code: 'custom',
            path: ['relationships', i, 'target'],
            message: 'a CI cannot relate to itself',
          });
        }
      });
    },
    {
      when: ({ value }) => {
        const body = value as { cis?: unknown; relationships?: unknown } | null;
        return Array.isArray(body?.cis) && Array.isArray(body.relationships);
      },
    },
  );
type ImportBody = z.output<typeof importSchema>;

const counts = <K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<K, z.ZodNumber>);

/** The CMDB import route as the API document describes it; the handler validates with these. */
export const cmdbRoutes = {
  import: {
    method: 'post',
    path: '/api/v1/cmdb/import',
    tag: 'CMDB',
    summary: 'Import configuration items and relationships',
    description:
      "Idempotent upsert by name: a field left out keeps its value. JSON (`{cis, relationships}`) or `text/csv` (a file of CIs or of relationships, told by `kind` or by the header; each bad cell is one of the 400's `errors`, with the pointer `/rows/{row}/{column}`). Nothing is written unless the whole body is valid; an unknown class or CI is a 400 naming it.",
    role: 'admin',
    query: {
      kind: z
        .enum(csvKinds)
        .optional()
        .meta({ description: 'What a CSV file holds (default: told by its header); CSV only.' }),
    },
    body: importSchema,
    otherMediaTypes: {
      'text/csv':
        'One CSV file: columns `name`, `class`, the CI fields and `attr.<key>`; or `source`, `target`, `type`.',
    },
    response: {
      status: 200,
      description: 'What the import created, updated and left unchanged.',
      schema: z.object({
        cis: counts(['created', 'updated', 'unchanged']),
        relationships: counts(['created', 'unchanged']),
      }),
    },
    errors: [503],
  },
} satisfies Record<string, RouteDoc>;

/** Where an item's field came from: a JSON pointer, or a CSV row and column. */
type Locate = (
  list: 'cis' | 'relationships',
  index: number,
  field: string,
  detail: string,
) => FieldError;

const inJson: Locate = (list, index, field, detail) => ({
  pointer: pointer([list, index, field]),
  detail,
});

/** Reads a CSV import body; its validation errors name the row and column of each bad cell. */
function parseCsvBody(text: string, kind: (typeof csvKinds)[number] | undefined) {
  const csv = readCmdbCsv(text, kind);
  const locate: Locate = (_list, index, field, detail) =>
    cellError(csv.rows[index] ?? 1, csv.columns[field] ?? field, detail);
  const parsed = importSchema.safeParse(csv.body);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.slice(0, 50).map((issue) => {
        const [list, index, field] = issue.path;
        const detail =
          issue.code === 'invalid_type' && /received undefined/.test(issue.message)
            ? 'a value is needed'
            : issue.message;
        return (list === 'cis' || list === 'relationships') &&
          typeof index === 'number' &&
          typeof field === 'string'
          ? locate(list, index, field, detail)
          : cellError(1, null, detail);
      }),
    );
  }
  return { body: parsed.data, locate };
}

/**
 * `POST /cmdb/import`: idempotent upsert of configuration items and their relationships, from
 * JSON (`{cis, relationships}`) or CSV (`text/csv`: a file of CIs or of relationships, told by
 * `kind` or by its header). Admins only.
 */
export function cmdbApi(pool: Pool, authenticate: Authenticate): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use(requireRole(authenticate, 'admin'));
  app.post('/import', async (c) => {
    const query = parseQuery(c, cmdbRoutes.import.query);
    const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    let body: ImportBody;
    let locate = inJson;
    if (mediaType === 'text/csv') {
      ({ body, locate } = parseCsvBody(await c.req.text(), query.kind));
    } else if (mediaType === 'application/json') {
      if (query.kind)
        throw invalid([
          { pointer: pointer(['query', 'kind']), detail: 'applies to text/csv only' },
        ]);
      body = await parseJsonBody(c, cmdbRoutes.import.body);
    } else {
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        'Send application/json or text/csv.',
      );
    }
    const outcome = await withTransaction(pool, async (tx) => {
      await setActor(tx, c.get('principal').name, 'import');
      return importCmdb(tx, body.cis, body.relationships);
    });
    switch (outcome.kind) {
      case 'unknown-classes': {
        const unknown = new Set(outcome.names);
        throw invalid(
          body.cis
            .flatMap((ci, i) =>
              unknown.has(ci.class)
                ? [locate('cis', i, 'class', `unknown class "${ci.class}"; see /api/v1/ci-classes`)]
                : [],
            )
            .slice(0, 50),
        );
      }
      case 'unknown-cis':
        throw invalid(
          outcome.names.slice(0, 50).map((n) => {
            const i = body.relationships.findIndex((r) => r.source === n || r.target === n);
            const field = body.relationships[i]?.source === n ? 'source' : 'target';
            return locate('relationships', i, field, `unknown CI "${n}"`);
          }),
        );
      case 'imported':
        return c.json({ cis: outcome.cis, relationships: outcome.relationships });
    }
  });
  return app;
}
