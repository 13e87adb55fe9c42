import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { invalid, unavailable } from '../../runtime/problem.ts';
import type { Field } from '../store/list.ts';
import { recordTypes } from '../store/outbox.ts';
import { decodeCursor } from '../store/page.ts';
import { searchFields, searchRecordsFaceted, type SearchPredicate } from '../store/search-query.ts';
import type { SearchClient } from '../store/search.ts';
import { parseFilter } from './list-query.ts';
import { pageQuery, parseQuery } from './validate.ts';

const types = z
  .string()
  .transform((s) => s.split(','))
  .pipe(z.array(z.enum(recordTypes)).min(1));

// The search fields as list fields, so `filter` has one syntax and one parser everywhere.
const filterFields: Record<string, Field> = Object.fromEntries(
  Object.entries(searchFields).map(([name, type]) => [
    name,
    { column: name, type: type === 'keyword' ? 'text' : type === 'number' ? 'int' : 'time' },
  ]),
);

/**
 * `GET /search?q=&type=&filter=`: search over every record type in Elasticsearch, with facets,
 * highlighted snippets and `search_after` cursors. `q` is Lucene query syntax; a malformed one is
 * a 400 that says why.
 */
export function searchApi(es: SearchClient, indexPrefix: string, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, {
      q: z.string().max(4096).default(''),
      type: types.optional(),
      filter: z.string().max(8192).optional(),
      limit: pageQuery.limit,
      cursor: z
        .string()
        .max(4096)
        .refine((s) => Array.isArray(decodeCursor(s)), 'not a cursor this search returned')
        .optional(),
    });
    const predicates = parseFilter('record', filterFields, query.filter) as SearchPredicate[];
    const outcome = await searchRecordsFaceted(es, indexPrefix, {
      q: query.q,
      types: query.type ?? [...recordTypes],
      predicates,
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    switch (outcome.kind) {
      case 'ok':
        return c.json(outcome.result);
      case 'bad-query':
        throw invalid([{ pointer: '/query/q', detail: outcome.reason }]);
      case 'unavailable':
        throw unavailable(
          `Search is unavailable (${outcome.reason}); records are safe and will be searchable when it returns.`,
        );
    }
  });
  return app;
}
