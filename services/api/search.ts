import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import type { RouteDoc } from '../../runtime/openapi.ts';
import { invalid, unavailable } from '../../runtime/problem.ts';
import type { Field } from '../store/list.ts';
import { recordTypes } from '../store/outbox.ts';
import { decodeCursor } from '../store/page.ts';
import { searchFields, searchRecordsFaceted, type SearchPredicate } from '../store/search-query.ts';
import type { SearchClient } from '../store/search.ts';
import { parseFilter } from './list-query.ts';
import { pageQuery, parseQuery, recordId } from './validate.ts';

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

const hit = z
  .object({
    type: z.enum(recordTypes),
    id: recordId,
    score: z.number().nullable(),
    record: z.looseObject({}).meta({ description: 'The record as indexed.' }),
    highlight: z.record(z.string(), z.array(z.string())).meta({
      description: 'Snippets by field: HTML-escaped text with the matches in `<mark>`.',
    }),
  })
  .meta({ title: 'SearchHit' });

/**
 * Whether a cursor is one a search returns: the sort values of its last hit, score, time (epoch
 * ms, or null without one), record type and id. Anything else went on to Elasticsearch, whose
 * refusal came back as a 400 blaming `q`.
 */
function isSearchCursor(cursor: string): boolean {
  const position = decodeCursor(cursor);
  if (!Array.isArray(position) || position.length !== 4) return false;
  const [score, at, type, id] = position as unknown[];
  return (
    typeof score === 'number' &&
    (at === null || typeof at === 'number') &&
    (recordTypes as readonly unknown[]).includes(type) &&
    typeof id === 'string' &&
    /^[1-9]\d{0,18}$/.test(id)
  );
}

// Fuzzy terms are what a query can make expensive: with highlighting, 50 of them (`w0~2 OR w1~2
// …`) took Elasticsearch 3.9 s over 200 incidents, and 100 more than the client's 10 s timeout
// (measured by the API review; 91 ms for the same 50 without highlighting).
const MAX_FUZZY = 10;

/** The `~` operators of a query (fuzzy `word~` and proximity `"a b"~3`), escapes and phrases aside. */
export function fuzzyOperators(q: string): number {
  let count = 0;
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const ch = q[i];
    if (ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === '~' && !quoted) count++;
  }
  return count;
}

/** The search route as the API document describes it; the handler validates with these. */
export const searchRoutes = {
  search: {
    method: 'get',
    path: '/api/v1/search',
    tag: 'Search',
    summary: 'Search every record type',
    description:
      'Lucene syntax in `q` (words, `field:value`, `"phrases"`, `AND`/`OR`/`NOT`, parentheses; no leading wildcards): a malformed query is a 400 saying why. Facets cover the whole result.',
    role: 'viewer',
    query: {
      q: z
        .string()
        .max(4096)
        .refine(
          (q) => fuzzyOperators(q) <= MAX_FUZZY,
          `at most ${MAX_FUZZY} fuzzy or proximity operators (~): each fuzzy term is expanded over the index and matched again for every highlighted hit`,
        )
        .default('')
        .meta({
          description: `The query (empty: everything); at most ${MAX_FUZZY} \`~\` operators.`,
        }),
      type: types
        .optional()
        .meta({ description: `Record types joined by \`,\`: ${recordTypes.join(', ')}.` }),
      filter: z
        .string()
        .max(8192)
        .optional()
        .meta({ description: 'Predicates as in lists: `state=new|in_progress;priority<=2`.' }),
      limit: pageQuery.limit,
      cursor: z
        .string()
        .max(4096)
        .refine(isSearchCursor, 'not a cursor this search returned')
        .optional()
        .meta({ description: 'The `nextCursor` of the previous page.' }),
    },
    response: {
      status: 200,
      description: 'A page of hits, best first, with the facets of the whole result.',
      schema: z.object({
        items: z.array(hit),
        nextCursor: z.string().nullable(),
        facets: z
          .record(
            z.string(),
            z.array(
              z.object({ value: z.union([z.string(), z.number()]), count: z.number().int() }),
            ),
          )
          .meta({
            description:
              'Counts by type, state, priority, severity, service, class, assignment group and age (1h, 24h, 7d, 30d).',
          }),
      }),
    },
    errors: [[503, 'Elasticsearch is away; records are safe and searchable when it returns.']],
  },
} satisfies Record<string, RouteDoc>;

/**
 * `GET /search?q=&type=&filter=`: search over every record type in Elasticsearch, with facets,
 * highlighted snippets and `search_after` cursors. `q` is Lucene query syntax; a malformed one is
 * a 400 that says why.
 */
export function searchApi(es: SearchClient, indexPrefix: string, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, searchRoutes.search.query);
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
