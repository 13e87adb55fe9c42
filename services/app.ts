import { Hono } from 'hono';
import { except } from 'hono/combine';
import type { Logger } from 'pino';
import type { Authenticate } from '../runtime/auth.ts';
import { limitBody, type BodyBudget } from '../runtime/body-limit.ts';
import type { RouteDoc } from '../runtime/openapi.ts';
import {
  invalid,
  ProblemError,
  renderError,
  renderNotFound,
  unavailable,
  type FieldError,
} from '../runtime/problem.ts';
import { alertRoutes, alertsApi } from './api/alerts.ts';
import { assetSpec } from './api/assets.ts';
import { knownErrorSpec } from './api/known-errors.ts';
import { ciRoutes, cisApi } from './api/cis.ts';
import { cmdbApi, cmdbRoutes } from './api/cmdb.ts';
import { correlationApi, correlationRoutes } from './api/correlation.ts';
import { changeSpec } from './api/changes.ts';
import { incidentSpec } from './api/incidents.ts';
import { problemSpec } from './api/problems.ts';
import { ticketApi, ticketRoutes } from './api/tickets.ts';
import { noticeRoutes, noticesApi } from './api/notices.ts';
import { insightRoutes, insightsApi } from './api/insights.ts';
import { slaRoutes, slasApi } from './api/slas.ts';
import { openApiApi, openApiRoutes } from './api/openapi.ts';
import { peopleApi, peopleRoutes } from './api/people.ts';
import { pipelineApi, pipelineRoutes } from './api/pipeline.ts';
import { recordApi, recordRoutes } from './api/records.ts';
import { searchApi, searchRoutes } from './api/search.ts';
import { serviceSpec } from './api/services.ts';
import { tokenRoutes, tokensApi } from './api/tokens.ts';
import {
  constraintViolation,
  isConnectionError,
  isRetryableConflict,
  type Pool,
} from './store/db.ts';
import type { SearchClient } from './store/search.ts';
import type { PriorityMatrix } from './store/workflows.ts';

/**
 * The table CHECKs a request can break with fields that are each valid alone (an end before its
 * start), as the field and rule to name: PostgreSQL's own message ("new row for relation
 * "changes" violates check constraint "changes_check"") named neither.
 */
const CHECK_CONSTRAINTS: Record<string, FieldError> = {
  changes_check: { pointer: '/plannedEnd', detail: 'must be after plannedStart' },
  assets_warranty_after_purchase: {
    pointer: '/warrantyEnd',
    detail: 'must not be before purchasedAt',
  },
  assets_cost_currency: { pointer: '/currency', detail: 'a cost needs its currency' },
};

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
  /** Largest request body (413 above). */
  maxBodyBytes: number;
  /** The process's bytes of bodies being read at once (503 past it), shared with ingest. */
  bodyBudget: BodyBudget;
  /** Routes other roles serve under /api/v1 (ingest): the API document lists them too. */
  documented?: readonly RouteDoc[];
};

/**
 * Every route of the services API as its document describes it. The routes validate with these
 * descriptions' schemas; a test holds this list and the mounted routes to each other.
 */
export function servicesRoutes(sources: readonly string[]): RouteDoc[] {
  const described = [
    ...[incidentSpec, problemSpec, changeSpec].map(ticketRoutes),
    insightRoutes,
    alertRoutes,
    correlationRoutes,
    recordRoutes(assetSpec),
    recordRoutes(knownErrorSpec),
    recordRoutes(serviceSpec),
    slaRoutes,
    searchRoutes,
    cmdbRoutes,
    ciRoutes,
    peopleRoutes,
    tokenRoutes(sources),
    noticeRoutes,
    pipelineRoutes,
    openApiRoutes,
  ];
  return described.flatMap((routes) =>
    Object.values<RouteDoc | null>(routes).filter((r): r is RouteDoc => r !== null),
  );
}

/** The ITSM records API under /api/v1. It does not listen; the process does. */
export function createServicesApp(deps: ServicesDeps): Hono {
  const app = new Hono();
  // Ingest checks its own bodies; every other body is bounded here.
  app.use('/api/v1/*', except('/api/v1/ingest/*', limitBody(deps.maxBodyBytes, deps.bodyBudget)));
  app.onError(
    renderError(deps.log, (err) => {
      if (isConnectionError(err)) return unavailable('PostgreSQL is unavailable; retry later.');
      // Undone for a deadlock again and again (withTransaction runs it again a few times).
      if (isRetryableConflict(err))
        return unavailable('The records are busy with other changes; retry shortly.', 1);
      const violation = constraintViolation(err);
      if (!violation) return null;
      switch (violation.kind) {
        case 'conflict':
          return new ProblemError(409, 'conflict', 'Conflict', violation.detail);
        case 'missing-reference':
          return new ProblemError(400, 'missing-reference', 'Unknown reference', violation.detail);
        case 'check': {
          const known = Object.hasOwn(CHECK_CONSTRAINTS, violation.constraint)
            ? CHECK_CONSTRAINTS[violation.constraint]
            : undefined;
          if (known) return invalid([known]);
          return new ProblemError(
            400,
            'invalid-request',
            'The request is invalid',
            violation.detail,
          );
        }
      }
    }),
  );
  app.notFound(renderNotFound);
  app.route(
    '/api/v1',
    openApiApi(() => [...(deps.documented ?? []), ...servicesRoutes(deps.sources)]),
  );
  app.route('/api/v1', slasApi(deps.pool, deps.authenticate));
  // Before the ticket routes: /problems/patterns is no problem id.
  app.route('/api/v1', insightsApi(deps.pool, deps.es, deps.indexPrefix, deps.authenticate));
  for (const spec of [incidentSpec, problemSpec, changeSpec])
    app.route(`/api/v1/${spec.kind}s`, ticketApi(spec, deps));
  // Before the alert routes: their viewer check would answer a move by an operator first.
  app.route('/api/v1', correlationApi(deps.pool, deps.authenticate));
  app.route('/api/v1/alerts', alertsApi(deps.pool, deps.authenticate));
  app.route('/api/v1/assets', recordApi(assetSpec, deps));
  app.route('/api/v1/known-errors', recordApi(knownErrorSpec, deps));
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
