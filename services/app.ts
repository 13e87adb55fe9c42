import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Authenticate } from '../runtime/auth.ts';
import { renderError, renderNotFound, unavailable } from '../runtime/problem.ts';
import { alertsApi } from './api/alerts.ts';
import { cmdbApi } from './api/cmdb.ts';
import { incidentsApi } from './api/incidents.ts';
import { noticesApi } from './api/notices.ts';
import { pipelineApi } from './api/pipeline.ts';
import { searchApi } from './api/search.ts';
import { tokensApi } from './api/tokens.ts';
import { isConnectionError, type Pool } from './store/db.ts';
import type { SearchClient } from './store/search.ts';

/** What the services API needs, injected by the process that serves it. */
export type ServicesDeps = {
  pool: Pool;
  es: SearchClient;
  indexPrefix: string;
  authenticate: Authenticate;
  queueDepth: () => Promise<Record<string, number>>;
  /** The sources ingest reads, for binding tokens to one. */
  sources: readonly string[];
  log: Logger;
};

/** The ITSM records API under /api/v1. It does not listen; the process does. */
export function createServicesApp(deps: ServicesDeps): Hono {
  const app = new Hono();
  app.onError(
    renderError(deps.log, (err) =>
      isConnectionError(err) ? unavailable('PostgreSQL is unavailable; retry later.') : null,
    ),
  );
  app.notFound(renderNotFound);
  app.route('/api/v1/incidents', incidentsApi(deps.pool, deps.authenticate));
  app.route('/api/v1/alerts', alertsApi(deps.pool, deps.authenticate));
  app.route('/api/v1/search', searchApi(deps.es, deps.indexPrefix, deps.authenticate));
  app.route('/api/v1/cmdb', cmdbApi(deps.pool, deps.authenticate));
  app.route('/api/v1/tokens', tokensApi(deps.pool, deps.authenticate, deps.sources));
  app.route('/api/v1/notices', noticesApi(deps.pool, deps.authenticate));
  app.route('/api/v1/pipeline', pipelineApi(deps.pool, deps.authenticate, deps.queueDepth));
  return app;
}
