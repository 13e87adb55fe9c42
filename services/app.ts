import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Authenticate } from '../runtime/auth.ts';
import { ProblemError, renderError, renderNotFound, unavailable } from '../runtime/problem.ts';
import { alertsApi } from './api/alerts.ts';
import { assetSpec } from './api/assets.ts';
import { cisApi } from './api/cis.ts';
import { cmdbApi } from './api/cmdb.ts';
import { changeSpec } from './api/changes.ts';
import { incidentSpec } from './api/incidents.ts';
import { problemSpec } from './api/problems.ts';
import { ticketApi } from './api/tickets.ts';
import { noticesApi } from './api/notices.ts';
import { insightsApi } from './api/insights.ts';
import { slasApi } from './api/slas.ts';
import { peopleApi } from './api/people.ts';
import { pipelineApi } from './api/pipeline.ts';
import { recordApi } from './api/records.ts';
import { searchApi } from './api/search.ts';
import { serviceSpec } from './api/services.ts';
import { tokensApi } from './api/tokens.ts';
import { constraintViolation, isConnectionError, type Pool } from './store/db.ts';
import type { SearchClient } from './store/search.ts';
import type { PriorityMatrix } from './store/workflows.ts';

/** What the services API needs, injected by the process that serves it. */
export type ServicesDeps = {
  pool: Pool;
  es: SearchClient;
  indexPrefix: string;
  authenticate: Authenticate;
  queueDepth: () => Promise<Record<string, number>>;
  /** The sources ingest reads, for binding tokens to one. */
  sources: readonly string[];
  /** Priority by impact (rows) and urgency (columns), 1–3 each. */
  priorityMatrix: PriorityMatrix;
  log: Logger;
};

/** The ITSM records API under /api/v1. It does not listen; the process does. */
export function createServicesApp(deps: ServicesDeps): Hono {
  const app = new Hono();
  app.onError(
    renderError(deps.log, (err) => {
      if (isConnectionError(err)) return unavailable('PostgreSQL is unavailable; retry later.');
      const violation = constraintViolation(err);
      if (!violation) return null;
      switch (violation.kind) {
        case 'conflict':
          return new ProblemError(409, 'conflict', 'Conflict', violation.detail);
        case 'missing-reference':
          return new ProblemError(400, 'missing-reference', 'Unknown reference', violation.detail);
        case 'check':
          return new ProblemError(
            400,
            'invalid-request',
            'The request is invalid',
            violation.detail,
          );
      }
    }),
  );
  app.notFound(renderNotFound);
  app.route('/api/v1', slasApi(deps.pool, deps.authenticate));
  // Before the ticket routes: /problems/patterns is no problem id.
  app.route('/api/v1', insightsApi(deps.pool, deps.es, deps.indexPrefix, deps.authenticate));
  for (const spec of [incidentSpec, problemSpec, changeSpec])
    app.route(`/api/v1/${spec.kind}s`, ticketApi(spec, deps));
  app.route('/api/v1/alerts', alertsApi(deps.pool, deps.authenticate));
  app.route('/api/v1/assets', recordApi(assetSpec, deps));
  app.route('/api/v1/services', recordApi(serviceSpec, deps));
  app.route('/api/v1/search', searchApi(deps.es, deps.indexPrefix, deps.authenticate));
  app.route('/api/v1/cmdb', cmdbApi(deps.pool, deps.authenticate));
  app.route('/api/v1', cisApi(deps.pool, deps.authenticate));
  app.route('/api/v1', peopleApi(deps.pool, deps.authenticate));
  app.route('/api/v1/tokens', tokensApi(deps.pool, deps.authenticate, deps.sources));
  app.route('/api/v1/notices', noticesApi(deps.pool, deps.authenticate));
  app.route('/api/v1/pipeline', pipelineApi(deps.pool, deps.authenticate, deps.queueDepth));
  return app;
}
