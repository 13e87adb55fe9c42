import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { requireRole, type Authenticate } from '../runtime/auth.ts';
import type { Metrics } from '../runtime/metrics.ts';
import {
  invalid,
  ProblemError,
  renderError,
  renderNotFound,
  unavailable,
} from '../runtime/problem.ts';
import { ingest, sources, type Accept, type IngestOutcome } from './ingest.ts';

/** What the ingest app needs, injected by the process that serves it. */
export type IngestDeps = {
  authenticate: Authenticate;
  accept: Accept;
  maxBodyBytes: number;
  metrics: Metrics;
  log: Logger;
};

function toResponse(outcome: IngestOutcome): { status: 202; body: { accepted: number } } {
  switch (outcome.kind) {
    case 'accepted':
      return { status: 202, body: { accepted: outcome.accepted } };
    case 'unknown-source':
      throw new ProblemError(
        404,
        'unknown-source',
        'Unknown source',
        `No normalizer for source "${outcome.source}".`,
      );
    case 'unsupported-media-type':
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `Content-Type "${outcome.contentType}" is not accepted; send application/json or application/x-ndjson.`,
      );
    case 'malformed':
    case 'invalid':
      throw invalid(outcome.errors);
    case 'unavailable':
      throw unavailable(outcome.detail);
  }
}

/** The ingest HTTP app: `POST /api/v1/ingest/{source}`. It does not listen; the process does. */
export function createIngestApp(deps: IngestDeps): Hono {
  const app = new Hono();
  app.onError(renderError(deps.log));
  app.notFound(renderNotFound);
  app.post(
    '/api/v1/ingest/:source',
    async (c, next) => {
      try {
        await next();
      } finally {
        const source = c.req.param('source');
        deps.metrics.ingestRequests.inc({
          source: Object.hasOwn(sources, source) ? source : 'unknown',
          status: String(c.res.status),
        });
      }
    },
    requireRole(deps.authenticate, 'ingest'),
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: () => {
        throw new ProblemError(
          413,
          'body-too-large',
          'Request body too large',
          `The limit is ${deps.maxBodyBytes} bytes.`,
        );
      },
    }),
    async (c) => {
      const source = c.req.param('source');
      const outcome = await ingest(
        {
          source,
          contentType: c.req.header('Content-Type') ?? '',
          body: await c.req.text(),
          receivedAt: new Date(),
        },
        deps.accept,
      );
      const { status, body } = toResponse(outcome);
      deps.metrics.alertsAccepted.inc({ source }, body.accepted);
      return c.json(body, status);
    },
  );
  return app;
}
