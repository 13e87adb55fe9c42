import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { notFound } from '../../runtime/problem.ts';
import type { Pool } from '../store/db.ts';
import { getIncident, incidentStates, listIncidents } from '../store/incidents.ts';
import { pageQuery, parseId, parseQuery } from './validate.ts';

const states = z
  .string()
  .transform((s) => s.split(','))
  .pipe(z.array(z.enum(incidentStates)));

/** `GET /incidents` and `GET /incidents/{id}`. */
export function incidentsApi(pool: Pool, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'viewer'));
  app.get('/', async (c) => {
    const query = parseQuery(c, { ...pageQuery, state: states.optional() });
    return c.json(
      await listIncidents(pool, { states: query.state }, query.limit, query.cursor ?? null),
    );
  });
  app.get('/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const incident = await getIncident(pool, id);
    if (!incident) throw notFound(`No incident ${id}.`);
    return c.json(incident);
  });
  return app;
}
