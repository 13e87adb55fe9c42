import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { requireRole, type AuthEnv, type Authenticate } from '../runtime/auth.ts';
import type { Metrics } from '../runtime/metrics.ts';
import {
  invalid,
  ProblemError,
  renderError,
  renderNotFound,
  unavailable,
} from '../runtime/problem.ts';
import { ingest, type Accept, type IngestOutcome } from './ingest.ts';
import type { RateDecision } from './rate-limit.ts';
import { SIGNATURE_HEADER, verifySignature } from './signature.ts';
import { isSourceName } from './sources/index.ts';

/** What the ingest app needs, injected by the process that serves it. */
export type IngestDeps = {
  authenticate: Authenticate;
  accept: Accept;
  maxBodyBytes: number;
  /** Per-token rate limit. */
  limit: (tokenKey: string) => RateDecision;
  signatureToleranceSeconds: number;
  now: () => number;
  metrics: Metrics;
  log: Logger;
};

type Answer = { status: 202; body: { accepted: number; duplicate?: true } };

function toResponse(outcome: IngestOutcome): Answer {
  switch (outcome.kind) {
    case 'accepted':
      return {
        status: 202,
        body: outcome.duplicate
          ? { accepted: outcome.accepted, duplicate: true }
          : { accepted: outcome.accepted },
      };
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
        `Content-Type "${outcome.contentType}" is not accepted here; send ${outcome.expected.join(', ')}.`,
      );
    case 'malformed':
    case 'invalid':
      throw invalid(outcome.errors);
    case 'unprocessable':
      throw new ProblemError(
        422,
        'unprocessable-payload',
        'The payload cannot be used as sent',
        outcome.detail,
        outcome.pointer === undefined ? {} : { pointer: outcome.pointer },
      );
    case 'unavailable':
      throw unavailable(outcome.detail);
    case 'overloaded':
      throw unavailable('Tocsin is accepting more alerts than it can store right now.', 1);
  }
}

const signatureProblems = {
  missing: `This token signs its deliveries: send ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.`,
  malformed: `${SIGNATURE_HEADER} must read t=<unix seconds>,v1=<64 hex digits>.`,
  expired: `The signature's timestamp is outside the replay window; sign each request when it is sent.`,
  mismatch: `The signature does not match the body.`,
};

const tooLarge = (maxBytes: number) =>
  new ProblemError(
    413,
    'body-too-large',
    'Request body too large',
    `The limit is ${maxBytes} bytes.`,
  );

/**
 * 413 for a body over the limit. A body with a Content-Length (Node's parser reads exactly that
 * many bytes) is checked by its header, which keeps @hono/node-server's fast path for reading it;
 * touching the web-stream body, as Hono's bodyLimit does, costs about a fifth of the route's CPU.
 * A chunked body is counted as it streams, by bodyLimit.
 */
function limitBody(maxBytes: number): MiddlewareHandler {
  const streaming = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
  return async (c, next) => {
    const length = c.req.header('Content-Length');
    if (length !== undefined && c.req.header('Transfer-Encoding') === undefined) {
      if (!/^\d+$/.test(length.trim()) || Number(length) > maxBytes) throw tooLarge(maxBytes);
      return next();
    }
    return streaming(c, next);
  };
}

/** The ingest HTTP app: `POST /api/v1/ingest/{source}`. It does not listen; the process does. */
export function createIngestApp(deps: IngestDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
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
          source: isSourceName(source) ? source : 'unknown',
          status: String(c.res.status),
        });
      }
    },
    requireRole(deps.authenticate, 'ingest', { allowQueryToken: true }),
    async (c, next) => {
      const principal = c.get('principal');
      const source = c.req.param('source');
      if (principal.source !== null && principal.source !== source) {
        throw new ProblemError(
          403,
          'forbidden',
          'Not allowed',
          `This token may post to /api/v1/ingest/${principal.source} only.`,
        );
      }
      const decision = deps.limit(principal.tokenId ?? principal.name);
      if (!decision.allowed) {
        throw new ProblemError(
          429,
          'rate-limited',
          'Too many requests',
          'This token is over its rate limit; retry after the given delay.',
          { retryAfter: decision.retryAfterSeconds },
        );
      }
      await next();
    },
    limitBody(deps.maxBodyBytes),
    async (c) => {
      const principal = c.get('principal');
      const source = c.req.param('source');
      const body = await c.req.text();
      if (principal.hmacSecret !== null) {
        const check = verifySignature(
          c.req.header(SIGNATURE_HEADER),
          principal.hmacSecret,
          body,
          deps.now(),
          deps.signatureToleranceSeconds,
        );
        if (!check.ok) {
          throw new ProblemError(
            401,
            'bad-signature',
            'Signature required',
            signatureProblems[check.reason],
          );
        }
      }
      const idempotencyKey = c.req.header('Idempotency-Key')?.trim();
      if (idempotencyKey !== undefined && (idempotencyKey === '' || idempotencyKey.length > 255)) {
        throw invalid([
          { pointer: '/headers/Idempotency-Key', detail: 'must be 1 to 255 characters' },
        ]);
      }
      const outcome = await ingest(
        {
          source,
          contentType: c.req.header('Content-Type') ?? '',
          body,
          receivedAt: new Date(deps.now()),
          tokenId: principal.tokenId,
          idempotencyKey: idempotencyKey ?? null,
          header: (name) => c.req.header(name),
        },
        deps.accept,
      );
      const { status, body: answer } = toResponse(outcome);
      if (!answer.duplicate) deps.metrics.alertsAccepted.inc({ source }, answer.accepted);
      return c.json(answer, status);
    },
  );
  return app;
}
