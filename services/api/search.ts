import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { invalid, unavailable } from '../../runtime/problem.ts';
import { recordTypes } from '../store/outbox.ts';
import { decodeCursor } from '../store/page.ts';
import { searchRecords, type SearchClient } from '../store/search.ts';
import { pageQuery, parseQuery } from './validate.ts';

const types = z
  .string()
  .transform((s) => s.split(','))
  .pipe(z.array(z.enum(recordTypes)).min(1));

/** `GET /search?q=&type=`: full-text search over incidents, alerts and CIs in Elasticsearch. */
export function searchApi(es: SearchClient, indexPrefix: string, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, {
      q: z.string().max(4096).default(''),
      type: types.optional(),
      limit: pageQuery.limit,
      cursor: z
        .string()
        .max(4096)
        .refine((s) => Array.isArray(decodeCursor(s)), 'not a cursor this search returned')
        .optional(),
    });
    const outcome = await searchRecords(es, indexPrefix, {
      q: query.q,
      types: query.type ?? [...recordTypes],
      limit: query.limit,
      cursor: query.cursor ?? null,
    });
    switch (outcome.kind) {
      case 'ok':
        return c.json(outcome.page);
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
